package comet

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// TestSlowReader: one client in a room stops reading; the 1000 others in
// the room get every message while the slow one's messages are dropped
// and counted (SlowDrop) or it is closed (SlowClose).
func TestSlowReader(t *testing.T) {
	for _, tt := range []struct {
		policy SlowPolicy
		fast   int
	}{{SlowDrop, 1000}, {SlowClose, 100}} {
		t.Run(fmt.Sprint(tt.policy), func(t *testing.T) { testSlowReader(t, tt.policy, tt.fast) })
	}
}

func testSlowReader(t *testing.T, policy SlowPolicy, fast int) {
	// 1000 clients from one IP in a burst: the limits are off.
	s := startServer(t, withoutLimits(Config{SendQueue: 16, SlowPolicy: policy}), nil)
	slow := dialSmallWindow(t, smallBufferListener(t, s.cm))
	slow.auth(token{Key: "slow", RoomID: "live://r"})

	var got []atomic.Int64 = make([]atomic.Int64, fast)
	var wg sync.WaitGroup
	for i := range fast {
		ws := i%10 == 0
		nc, r := dialFast(t, s, ws, fmt.Sprintf("fast-%d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			countMessages(nc, r, ws, &got[i])
		}()
	}
	testwait.For(t, waitTimeout, "registration", func() bool { return s.cm.Stats().Conns == fast+1 })

	body := make([]byte, 512)
	pushed, more := 0, -1 // after the slow client is hit, 100 more messages
	for more != 0 {
		if pushed == 5000 {
			t.Fatal("the slow client never filled its queue")
		}
		binary.BigEndian.PutUint32(body, uint32(pushed))
		batch := protocol.AppendPush(nil, 1000, body)
		if err := s.cm.BroadcastRoom(context.Background(), &cometrpc.BroadcastRoomReq{RoomID: "live://r", Batch: batch}); err != nil {
			t.Fatal(err)
		}
		pushed++
		if pushed%8 == 0 { // keep the fast clients within their queue of 16
			waitAll(t, got, pushed)
		}
		st := s.cm.Stats()
		if more < 0 && (st.Drops[DropQueueFull] > 0 || st.Closes[CloseSlow] > 0) {
			more = 100
		} else if more > 0 {
			more--
		}
	}
	waitAll(t, got, pushed)
	st := s.cm.Stats()
	if policy == SlowClose {
		slow.expectClosed()
		if st.Closes[CloseSlow] != 1 {
			t.Errorf("slow closes %d, want 1", st.Closes[CloseSlow])
		}
	} else if st.Drops[DropQueueFull] == 0 || st.Conns != fast+1 {
		t.Errorf("drops %v conns %d", st.Drops, st.Conns)
	}
	t.Logf("%d messages to %d fast clients; slow client: %v dropped, %v closes", pushed, fast, st.Drops, st.Closes)
	s.cm.Close()
	wg.Wait()
}

// waitAll waits until every counter reaches n, and fails on a drop.
func waitAll(t *testing.T, got []atomic.Int64, n int) {
	t.Helper()
	testwait.ForReason(t, waitTimeout, fmt.Sprintf("every fast client to get %d messages", n), func() (bool, string) {
		lagging, first := 0, -1
		for i := range got {
			if got[i].Load() != int64(n) {
				lagging++
				if first < 0 {
					first = i
				}
			}
		}
		if lagging == 0 {
			return true, ""
		}
		return false, fmt.Sprintf("%d lag behind; client %d got %d", lagging, first, got[first].Load())
	})
}

// smallBufferListener serves TCP clients of cm on a listener whose
// accepted sockets have a small send buffer, and returns its address.
func smallBufferListener(t *testing.T, cm *Comet) string {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096)
		})
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		cm.ServeTCP(ln)
	}()
	t.Cleanup(func() {
		cm.Close()
		<-done
	})
	return ln.Addr().String()
}

// dialSmallWindow connects with a 4 KB receive buffer, so that a client
// that stops reading fills up quickly.
func dialSmallWindow(t *testing.T, addr string) *client {
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, r: nc}
}

// dialFast connects and authenticates a reading client into the room.
func dialFast(t *testing.T, s *server, ws bool, key string) (net.Conn, io.Reader) {
	var c *client
	if ws {
		c = dialWS(t, s.ws)
	} else {
		c = dialTCP(t, s.tcp)
	}
	c.auth(token{Key: key, RoomID: "live://r"})
	return c.nc, c.r
}

// countMessages counts pushed messages until the connection closes. It
// reads without the deadline the auth left, which a slow setup of many
// clients (race detector, busy machine) may outlast.
func countMessages(nc net.Conn, r io.Reader, ws bool, n *atomic.Int64) {
	nc.SetReadDeadline(time.Time{})
	if ws {
		wc := websocket.NewClientConn(nc, nil, websocket.ConnConfig{MaxMessageSize: 1 << 20})
		buf := make([]byte, 0, 4096)
		for {
			if _, _, err := wc.ReadMessage(buf[:0]); err != nil {
				return
			}
			n.Add(1)
		}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	hdr := make([]byte, protocol.HeaderLen)
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			return
		}
		if _, err := br.Discard(int(binary.BigEndian.Uint32(hdr)) - protocol.HeaderLen); err != nil {
			return
		}
		n.Add(1)
	}
}
