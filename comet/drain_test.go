package comet

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/rpc"
	"github.com/goimx/goim/websocket"
)

// TestDrain: a drain reports the node offline before it answers, closes
// every client over the duration (WebSocket ones with 1001), counts them,
// and a second drain starts nothing.
func TestDrain(t *testing.T) {
	s := startServer(t, Config{ReportInterval: time.Hour}, nil)
	const n = 6
	var clients []*client
	for i := range n {
		dial := dialTCP
		addr := s.tcp
		if i%2 == 1 {
			dial, addr = dialWS, s.ws
		}
		c := dial(t, addr)
		c.auth(token{Key: fmt.Sprint("k", i)})
		clients = append(clients, c)
	}
	testwait.For(t, waitTimeout, "registration", func() bool { return s.cm.Stats().Conns == n })
	start := time.Now()
	rep, err := s.cm.Drain(context.Background(), &cometrpc.DrainReq{Duration: 500 * time.Millisecond})
	if err != nil || rep.Conns != n || rep.Already || rep.Duration != 500*time.Millisecond {
		t.Fatalf("Drain = %+v, %v", rep, err)
	}
	s.logic.mu.Lock()
	last := s.logic.reports[len(s.logic.reports)-1]
	s.logic.mu.Unlock()
	if !last.Node.Offline {
		t.Errorf("last report before Drain returned: %+v, want offline", last.Node)
	}
	for _, c := range clients {
		if c.ws {
			op, _, payload, err := c.readFrame()
			if err != nil || op != websocket.OpClose || binary.BigEndian.Uint16(payload) != websocket.CloseGoingAway {
				t.Fatalf("close frame %v % x %v, want 1001", op, payload, err)
			}
		}
		c.expectClosed()
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("all %d clients closed after %v: not paced over 500ms", n, took)
	}
	testwait.For(t, waitTimeout, "drained count", func() bool {
		st := s.cm.Stats()
		return st.Drained == n && st.Closes[CloseDrain] == n && st.Draining && st.Conns == 0
	})
	again, err := s.cm.Drain(context.Background(), &cometrpc.DrainReq{})
	if err != nil || !again.Already || again.Duration != DefaultDrainDuration {
		t.Errorf("second Drain = %+v, %v", again, err)
	}
}

// TestDrainOverRPC: MethodDrain reaches the comet through cometrpc.
func TestDrainOverRPC(t *testing.T) {
	s := startServer(t, Config{}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = s.cm.ServeRPC(ln) }()
	c := authed(t, s, func(tb testing.TB, s *server) *client { return dialTCP(tb, s.tcp) }, token{Key: "a"}, 1)
	cl := cometrpc.NewClient(ln.Addr().String(), rpc.ClientConfig{}, nil)
	defer cl.Close()
	rep, err := cl.Drain(context.Background(), &cometrpc.DrainReq{Duration: time.Millisecond})
	if err != nil || rep.Conns != 1 {
		t.Fatalf("Drain = %+v, %v", rep, err)
	}
	c.expectClosed()
	s.cm.Close()
	<-done
}

// TestCloseBeforeAuth: a connect-and-close (a load balancer's health
// check) is counted as CloseNoAuth and logged at debug only.
func TestCloseBeforeAuth(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{}, nil)
		addr := s.tcp
		if t.Name() == "TestCloseBeforeAuth/ws" {
			addr = s.ws
		}
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		nc.Close()
		testwait.For(t, waitTimeout, "close count", func() bool { return s.cm.Stats().Closes[CloseNoAuth] == 1 })
		testwait.For(t, waitTimeout, "log line", func() bool {
			return hasLine(s.log.String(), "level=DEBUG", "connection closed", "closed before auth")
		})
		if hasLine(s.log.String(), "level=INFO", "connection closed") || s.cm.Stats().Closes[CloseProtocol] != 0 {
			t.Errorf("health check logged at info or counted as a protocol error:\n%s", s.log.String())
		}
	})
}
