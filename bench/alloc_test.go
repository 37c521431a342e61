//go:build !race

package bench

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/logic"
)

// TestAllocs pins the per-message paths of the load generator at zero
// allocations: recording a latency, stamping and parsing a message,
// building a push request target, and one HTTP push on a kept-alive
// connection.
func TestAllocs(t *testing.T) {
	h := NewHistogram()
	body := AppendStamp(make([]byte, 0, 64), Stamp{Sent: 1}, 64)
	pb := newPathBuilder(Workload{Kind: KindKeys}, 1000)
	path := make([]byte, 0, 128)
	addr := serveFixed(t, "HTTP/1.1 200 OK\r\nContent-Length: 48\r\n\r\n{\"code\":0,\"message\":\"\",\"data\":{\"conns\":1,\"c\":1}}")
	pc := NewPushConn(addr, 0)
	defer pc.Close()
	if _, err := pc.Post([]byte("/warm"), body); err != nil { // dial outside the count
		t.Fatal(err)
	}
	seq := uint32(0)
	tests := []struct {
		name string
		fn   func()
	}{
		{"Histogram.Record", func() { h.Record(int(seq), time.Duration(seq)*time.Microsecond) }},
		{"AppendStamp+ParseStamp", func() {
			body = AppendStamp(body[:0], Stamp{Sent: int64(seq), Seq: seq}, 64)
			if _, err := ParseStamp(body); err != nil {
				t.Fatal(err)
			}
		}},
		{"pathBuilder.append", func() { path = pb.append(path[:0], seq) }},
		{"PushConn.Post", func() {
			if _, err := pc.Post(path, body); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(200, func() { tt.fn(); seq++ }); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", tt.name, n)
		}
	}
}

// TestFleetReadAllocs checks that receiving a stamped message (read,
// unpack, parse, record, count) allocates nothing: the process's
// allocation count grows by less than one per 1,000 messages.
func TestFleetReadAllocs(t *testing.T) {
	for _, reader := range readers {
		t.Run(reader, func(t *testing.T) { testFleetReadAllocs(t, reader) })
	}
}

func testFleetReadAllocs(t *testing.T, reader string) {
	fc := startFakeComet(t, false)
	const n, msgs = 4, 5000
	f := NewFleet(FleetConfig{Addr: fc.ln.Addr().String(), N: n, Op: 1000, Reader: reader})
	defer f.Close()
	if err := f.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "server side", func() bool { fc.mu.Lock(); defer fc.mu.Unlock(); return len(fc.conns) == n })
	r := f.BeginRound()
	stream := make([]byte, 0, msgs*40)
	for i := range msgs {
		stream = append(stream, packet(1000, 0, AppendStamp(nil, Stamp{Round: r.ID, Seq: uint32(i)}, 20))...)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fc.writeAll(t, stream)
	got, _ := r.WaitReceived(context.Background(), n*msgs, 10*time.Second)
	runtime.ReadMemStats(&after)
	if got != n*msgs {
		t.Fatalf("received %d of %d", got, n*msgs)
	}
	if allocs := after.Mallocs - before.Mallocs; allocs*1000 >= n*msgs {
		t.Errorf("%d allocations for %d messages", allocs, n*msgs)
	}
}

// TestTierPushKeysAllocs pins a push by key through the tiers, from
// logic's PushKeys (no HTTP) through the job to the comet and onto a
// client's socket, over the RPC and with direct links, at one
// allocation: the comet's encoding of the message, which its connections
// share. The push's keys travel in their wire encoding
// (rpc.StringList), decoded in place; the job's comet id is interned.
func TestTierPushKeysAllocs(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) { testTierPushKeysAllocs(t, direct) })
	}
}

func testTierPushKeysAllocs(t *testing.T, direct bool) {
	n := keyPushAllocs(t, direct, func(c *Cluster, w Workload) pushFunc {
		keys := []string{w.Key(0)}
		// A deadline no later than the push timeout's: logic uses it as it
		// is rather than deriving one per push (as the HTTP handler shares
		// one).
		ctx, cancel := context.WithTimeout(context.Background(), logic.DefaultPushTimeout)
		t.Cleanup(cancel)
		return func(body []byte) (int, error) {
			res, err := c.Logic.PushKeys(ctx, w.Op, keys, body)
			return res.Conns, err
		}
	})
	if n > 2 {
		t.Errorf("%v allocs per push, want at most 1 (the comet's encoding)", n)
	}
}

// pushFunc sends one push by key with body and returns the connections
// it reached.
type pushFunc func(body []byte) (int, error)

// keyPushAllocs starts a cluster (RPC or direct links) with one client
// and returns the allocations of one push by key to it, sent with the
// pushFunc newPush makes, each push waited for until the client got it.
func keyPushAllocs(t *testing.T, direct bool, newPush func(c *Cluster, w Workload) pushFunc) float64 {
	c := startTestCluster(t, ClusterConfig{Direct: direct})
	w := Workload{Kind: KindKeys}.withDefaults()
	f := connectFleet(t, c.TCPAddr, client.TransportTCP, ReaderConn, 1, w)
	testwait.For(t, 10*time.Second, "connection registered", func() bool { return c.Comet.Stats().Conns == 1 })
	r := f.BeginRound()
	send := newPush(c, w)
	body := make([]byte, 0, 64)
	sent := uint64(0)
	push := func() {
		body = AppendStamp(body[:0], Stamp{Sent: time.Now().UnixNano(), Round: r.ID, Seq: uint32(sent)}, 32)
		if conns, err := send(body); err != nil || conns != 1 {
			t.Fatalf("push: %d connections, %v", conns, err)
		}
		sent++
		for r.Received() < sent {
			time.Sleep(20 * time.Microsecond)
		}
	}
	for range 100 {
		push()
	}
	// The tiers' background work (reports, refreshes, timers) allocates
	// by the clock, not by the push, and a batch that runs slowly on a
	// loaded machine catches more of it: the least of several short
	// batches is the figure per push. A real allocation per push shows in
	// every batch.
	least := math.Inf(1)
	for range 10 {
		least = min(least, testing.AllocsPerRun(50, push))
	}
	return least
}

// TestHTTPPushKeysAllocs pins a push by key through the HTTP API (the
// built-in HTTP/1.1 server), the tiers and onto a client's socket, over
// the RPC and with direct links, caller and client included, at two
// allocations: the request target's string and the comet's encoding of
// the message.
func TestHTTPPushKeysAllocs(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) { testHTTPPushKeysAllocs(t, direct) })
	}
}

func testHTTPPushKeysAllocs(t *testing.T, direct bool) {
	n := keyPushAllocs(t, direct, func(c *Cluster, w Workload) pushFunc {
		pc := NewPushConn(c.HTTPAddr, 0)
		t.Cleanup(func() { pc.Close() })
		path := newPathBuilder(w, 1).append(nil, 0)
		return func(body []byte) (int, error) {
			a, err := pc.Post(path, body)
			return a.Conns, err
		}
	})
	if n > 2 {
		t.Errorf("%v allocs per push, want at most 2 (the request target, the comet's encoding)", n)
	}
}
