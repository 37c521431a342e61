//go:build !race

package comet

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// stackConns is the number of connections TestHeartbeatStack opens.
const stackConns = 1000

// stackWriteTimeout is the WriteTimeout of TestHeartbeatStack's comet:
// short, so that the test need not wait the default 10 s for the write
// deadlines of the auth replies to pass.
const stackWriteTimeout = 100 * time.Millisecond

// heartbeaters is the number of client goroutines sending heartbeats at
// once, so that the server handles them concurrently, as under load.
const heartbeaters = 16

// maxStackPerConn is the most goroutine stack an idle connection may
// cost after a heartbeat: its reader's 2 KB starting stack, plus slack
// for the runtime's stack caches and goroutines of the test itself.
const maxStackPerConn = 2560

// TestHeartbeatStack pins the reader goroutine of an idle connection at
// its 2 KB starting stack through a heartbeat: it opens stackConns
// connections, sends each a heartbeat, reads the replies and divides the
// growth of the goroutine stacks by the number of connections. The
// collector is off, so that it does not shrink grown stacks back.
func TestHeartbeatStack(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1000 connections")
	}
	for _, ws := range []bool{false, true} {
		t.Run(fmt.Sprint("ws=", ws), func(t *testing.T) {
			before, after := heartbeatStacks(t, ws, stackConns)
			per := func(v uint64) float64 { return float64(v) / stackConns }
			t.Logf("stack per connection: %.0f B after auth, %.0f B after a heartbeat", per(before), per(after))
			if per(after) > maxStackPerConn {
				t.Errorf("stack per connection after a heartbeat = %.0f B, want at most %d", per(after), maxStackPerConn)
			}
		})
	}
}

// heartbeatStacks opens n connections (WebSocket with ws), and returns
// the growth of the goroutine stacks once they are authenticated, and
// once each has sent a heartbeat and read its reply.
func heartbeatStacks(t *testing.T, ws bool, n int) (authed, beaten uint64) {
	s := startServer(t, withoutLimits(Config{WriteTimeout: stackWriteTimeout}), &fakeLogic{stateless: true})
	addr := s.tcp
	if ws {
		addr = s.ws
	}
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	base, gs := stackBytes(), runtime.NumGoroutine()
	conns := make([]net.Conn, n)
	for i := range conns {
		nc, err := dialAuthed(ws, addr, i)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		conns[i] = nc
	}
	testwait.For(t, waitTimeout, "connections", func() bool { return s.cm.Stats().Conns == n })
	authed = growth(base, stackBytes())
	// Let the write deadline of the auth replies pass, as it has by a
	// client's first heartbeat (30 s) under the default WriteTimeout: a
	// deadline set again after its timer fired takes the runtime's deeper
	// path (the timer is added back to the poller's heap).
	time.Sleep(3 * stackWriteTimeout)
	hb := (&protocol.Packet{Ver: 1, Op: protocol.OpHeartbeat, Seq: 2}).Append(nil)
	want := protocol.HeaderLen + 4
	if ws {
		hb = websocket.AppendMaskedFrame(nil, websocket.OpBinary, [4]byte{1, 2, 3, 4}, hb)
		want += 2
	}
	var wg sync.WaitGroup
	errs := make(chan error, heartbeaters)
	for w := range heartbeaters {
		wg.Go(func() {
			reply := make([]byte, want)
			for i := w; i < n; i += heartbeaters {
				if _, err := conns[i].Write(hb); err != nil {
					errs <- err
					return
				}
			}
			for i := w; i < n; i += heartbeaters {
				if _, err := io.ReadFull(conns[i], reply); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	testwait.For(t, waitTimeout, "writers to exit", func() bool { return runtime.NumGoroutine() <= gs+n })
	return authed, growth(base, stackBytes())
}

// growth returns after - before, or 0 when the stacks shrank (parked
// connections keep no goroutine, so the stacks of goroutines that ended
// meanwhile may outweigh theirs).
func growth(before, after uint64) uint64 {
	if after < before {
		return 0
	}
	return after - before
}

// stackBytes returns the memory of goroutine stacks, without a collection.
func stackBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
