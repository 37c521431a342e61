package client

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/protocol"
)

// heartbeatServer starts a TCP fake server that counts the heartbeats of
// each connection, in accept order, into counts.
func heartbeatServer(t *testing.T, counts []atomic.Int32) Config {
	var next atomic.Int32
	_, cfg := dialTransport(t, TransportTCP, func(sc *serverConn) {
		n := &counts[next.Add(1)-1]
		if _, _, err := sc.acceptAuth(); err != nil {
			return
		}
		got := make(chan protocol.Packet)
		go func() {
			for p := range got {
				if p.Op == protocol.OpHeartbeat {
					n.Add(1)
				}
			}
		}()
		defer close(got)
		sc.serve(1, got)
	})
	return cfg
}

func TestConfigHeartbeat(t *testing.T) {
	counts := make([]atomic.Int32, 1)
	cfg := heartbeatServer(t, counts)
	cfg.Heartbeat = 10 * time.Millisecond
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	replies := 0
	for replies < 3 {
		m, err := c.Read()
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := OnlineCount(m); !ok || n != 1 {
			t.Fatalf("unexpected message %+v", m)
		}
		replies++
	}
	c.Close()
	if c.hbTimer.Load().Stop() {
		t.Error("heartbeat timer still armed after Close")
	}
}

func TestHeartbeater(t *testing.T) {
	const conns = 4
	counts := make([]atomic.Int32, conns)
	cfg := heartbeatServer(t, counts)
	h := NewHeartbeater(40 * time.Millisecond)
	var cs []*Conn
	for range conns {
		c, err := Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
		defer c.Close()
		if !h.Add(c) {
			t.Fatal("Add refused")
		}
	}
	if got := h.Len(); got != conns {
		t.Fatalf("Len = %d, want %d", got, conns)
	}
	testwait.For(t, 10*time.Second, "two heartbeats on every connection", func() bool {
		for i := range counts {
			if counts[i].Load() < 2 {
				return false
			}
		}
		return true
	})
	h.Remove(cs[0])
	cs[1].Close()
	testwait.For(t, 10*time.Second, "the closed connection to be dropped", func() bool { return h.Len() == conns-2 })
	h.Close()
	h.Close() // idempotent
	if h.Add(cs[2]) {
		t.Error("Add after Close accepted")
	}
}
