package comet

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/rpc"
)

// TestQueueBytes: a client that reads nothing for a while gets a send
// queue that holds at most SendQueueBytes; what does not fit is dropped
// and counted, and once the client reads, every message that was queued
// arrives (SlowDrop: the connection stays).
func TestQueueBytes(t *testing.T) {
	const bound, size, pushes = 8 << 10, 500, 2000
	s := startServer(t, Config{SendQueueBytes: bound}, nil)
	slow := dialSmallWindow(t, smallBufferListener(t, s.cm))
	slow.auth(token{Key: "slow", Accepts: []int32{1000}})
	testwait.For(t, waitTimeout, "registration", func() bool { return s.cm.Stats().Conns == 1 })
	req := &cometrpc.PushKeysReq{Op: 1000, Keys: rpc.MakeStringList("slow"), Body: make([]byte, size)}
	for range pushes {
		if err := s.cm.PushKeys(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	st := s.cm.Stats()
	full := st.Drops[DropQueueFull]
	if full == 0 || st.Enqueued+full != pushes {
		t.Fatalf("enqueued %d + dropped (queue full) %d, want %d with some dropped", st.Enqueued, full, pushes)
	}
	if st.QueuePeak <= 0 || st.QueuePeak > bound {
		t.Errorf("queue peak %d, want within (0, %d]", st.QueuePeak, bound)
	}
	var got atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		countMessages(slow.nc, slow.r, false, &got)
	}()
	testwait.For(t, waitTimeout, "the queued messages", func() bool { return got.Load() == int64(st.Enqueued) })
	if st := s.cm.Stats(); st.Conns != 1 || len(st.Closes) != 0 || st.Drops[DropClosed] != 0 {
		t.Errorf("after reading: conns %d, closes %v, drops %v", st.Conns, st.Closes, st.Drops)
	}
	t.Logf("%d pushes of %d B: %d queued and delivered, %d dropped, queue peak %d B", pushes, size, st.Enqueued, full, st.QueuePeak)
	slow.nc.Close()
	wg.Wait()
}

// TestQueueBytesSlowClose: under SlowClose a client whose queue
// overflows is closed, and every push is either received or counted
// (dropped, or a key miss once the connection is gone): none disappears
// silently.
func TestQueueBytesSlowClose(t *testing.T) {
	const bound, size, pushes = 8 << 10, 500, 2000
	s := startServer(t, Config{SendQueueBytes: bound, SlowPolicy: SlowClose}, nil)
	slow := dialSmallWindow(t, smallBufferListener(t, s.cm))
	slow.auth(token{Key: "slow", Accepts: []int32{1000}})
	testwait.For(t, waitTimeout, "registration", func() bool { return s.cm.Stats().Conns == 1 })
	req := &cometrpc.PushKeysReq{Op: 1000, Keys: rpc.MakeStringList("slow"), Body: make([]byte, size)}
	for range pushes {
		if err := s.cm.PushKeys(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	var got atomic.Int64
	countMessages(slow.nc, slow.r, false, &got) // until the close
	testwait.For(t, waitTimeout, "the close", func() bool { return s.cm.Stats().Closes[CloseSlow] == 1 })
	st := s.cm.Stats()
	// Pushes after the connection left its bucket find no key.
	accounted := uint64(got.Load()) + st.Drops[DropQueueFull] + st.Drops[DropClosed] + st.KeyMisses
	if st.Drops[DropQueueFull] == 0 || accounted < pushes || uint64(got.Load()) > st.Enqueued {
		t.Errorf("received %d, drops %v, key misses %d, enqueued %d: %d of %d pushes accounted for",
			got.Load(), st.Drops, st.KeyMisses, st.Enqueued, accounted, pushes)
	}
	t.Logf("received %d, drops %v, key misses %d of %d pushes", got.Load(), st.Drops, st.KeyMisses, pushes)
}

// TestFloodOneClient is the comet's loss check: 50 goroutines push by key
// to one client that reads as fast as it can; every push must arrive and
// none may be dropped, whatever the scheduling.
func TestFloodOneClient(t *testing.T) {
	for _, ws := range []bool{false, true} {
		t.Run(fmt.Sprintf("ws=%v", ws), func(t *testing.T) {
			const callers, each = 50, 100
			s := startServer(t, Config{}, nil)
			nc, r := dialFastKey(t, s, ws, "k")
			var got atomic.Int64
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				countMessages(nc, r, ws, &got)
			}()
			testwait.For(t, waitTimeout, "registration", func() bool { return s.cm.Stats().Conns == 1 })
			var pushers sync.WaitGroup
			for range callers {
				pushers.Add(1)
				go func() {
					defer pushers.Done()
					req := &cometrpc.PushKeysReq{Op: 1000, Keys: rpc.MakeStringList("k"), Body: make([]byte, 16)}
					for range each {
						if err := s.cm.PushKeys(context.Background(), req); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			pushers.Wait()
			testwait.For(t, waitTimeout, "every push", func() bool { return got.Load() >= callers*each })
			time.Sleep(10 * time.Millisecond) // nothing more may come
			if st := s.cm.Stats(); got.Load() != callers*each || len(st.Drops) != 0 {
				t.Errorf("received %d of %d, drops %v", got.Load(), callers*each, st.Drops)
			}
			nc.Close()
			wg.Wait()
		})
	}
}

// dialFastKey connects and authenticates a client with key, accepting
// op 1000.
func dialFastKey(t *testing.T, s *server, ws bool, key string) (net.Conn, io.Reader) {
	var c *client
	if ws {
		c = dialWS(t, s.ws)
	} else {
		c = dialTCP(t, s.tcp)
	}
	c.auth(token{Key: key, Accepts: []int32{1000}})
	return c.nc, c.r
}
