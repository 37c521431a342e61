package job

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.BatchSize != DefaultBatchSize ||
		c.BatchBytes != DefaultBatchBytes || c.BatchWindow != DefaultBatchWindow ||
		c.RoomIdleTimeout != DefaultRoomIdleTimeout || c.CometQueueSize != DefaultCometQueueSize ||
		c.CometRefresh != DefaultCometRefresh || c.ReportInterval != DefaultReportInterval || c.NodeID == "" {
		t.Errorf("defaults = %+v", c)
	}
	if c.batchingOff() {
		t.Error("batching off by default")
	}
	bad := []Config{
		{BatchSize: -1}, {BatchBytes: -1}, {RoomIdleTimeout: -1}, {CometQueueSize: -1},
		{CometRefresh: -1}, {ReportInterval: -1},
	}
	for _, cfg := range bad {
		cfg.Logic = &fakeLogic{}
		if _, err := New(cfg, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
	if _, err := New(Config{}, nil); !errors.Is(err, ErrNoLogic) {
		t.Errorf("New without Logic = %v, want ErrNoLogic", err)
	}
}

func TestAdvertiseAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"[::]:3129", "127.0.0.1:3129"},
		{"0.0.0.0:3129", "127.0.0.1:3129"},
		{":3129", "127.0.0.1:3129"},
		{"10.1.2.3:3129", "10.1.2.3:3129"},
		{"[fe80::1]:3129", "[fe80::1]:3129"},
		{"host.example:3129", "host.example:3129"},
		{"junk", "junk"},
	}
	for _, tt := range tests {
		if got := advertiseAddr(tt.in); got != tt.want {
			t.Errorf("advertiseAddr(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestServeReports checks that a serving job reports itself to logic with
// its listener's address, and that Serve ends with ErrServerClosed.
func TestServeReports(t *testing.T) {
	h := newHarness(t, Config{NodeID: "job-1"}, []string{"a"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- h.job.Serve(ln) }()
	testwait.For(t, 10*time.Second, "a report", func() bool {
		_, ok := h.logic.lastReport()
		return ok
	})
	rep, _ := h.logic.lastReport()
	want := logicrpc.NodeInfo{ID: "job-1", Kind: logicrpc.KindJob, RPCAddr: ln.Addr().String(), Hostname: h.job.hostname}
	if !nodeInfoEqual(rep.Node, want) {
		t.Errorf("report = %+v, want %+v", rep.Node, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.job.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve = %v, want ErrServerClosed", err)
	}
	if rep, _ := h.logic.lastReport(); !rep.Node.Offline {
		t.Errorf("last report %+v is not offline", rep.Node)
	}
}

func nodeInfoEqual(a, b logicrpc.NodeInfo) bool {
	return a.ID == b.ID && a.Kind == b.Kind && a.RPCAddr == b.RPCAddr && a.Hostname == b.Hostname &&
		a.Offline == b.Offline && slices.Equal(a.Addrs, b.Addrs)
}

// TestShutdownDrains checks that Shutdown refuses new pushes but delivers
// everything taken before, in order, batches pending included.
func TestShutdownDrains(t *testing.T) {
	h := newHarness(t, Config{BatchWindow: time.Hour}, []string{"a"}, "a")
	for _, b := range bodies(10) {
		h.pushRoom("live://1", b)
	}
	ctx := context.Background()
	keys := &jobrpc.PushMsg{Type: jobrpc.PushKeys, Server: "a", Keys: rpc.MakeStringList("k"), Msg: []byte("k")}
	all := &jobrpc.PushMsg{Type: jobrpc.PushAll, Msg: []byte("all")}
	for _, m := range []*jobrpc.PushMsg{keys, all} {
		if err := h.job.Push(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		done <- h.job.Shutdown(ctx)
	}()
	// A malformed push: jobrpc.ErrBadPush until the job refuses everything.
	testwait.For(t, 10*time.Second, "pushes refused", func() bool {
		return errors.Is(h.job.Push(ctx, &jobrpc.PushMsg{Type: 9}), ErrServerClosed)
	})
	h.comet("a").unblock()
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	a := h.comet("a")
	if got := a.roomBodies("live://1"); !slices.Equal(got, bodies(10)) {
		t.Errorf("bodies = %v", got)
	}
	if len(a.keyPushes()) != 1 || len(a.broadcasts()) != 1 {
		t.Errorf("keys %v, broadcasts %v", a.keyPushes(), a.broadcasts())
	}
	st := h.job.Stats()
	if st.Dropped() != 0 || st.RejectedClosed == 0 || len(st.Comets) != 0 {
		t.Errorf("stats = %+v", st)
	}
	if n := a.closed.Load(); n != 1 {
		t.Errorf("comet closed %d times", n)
	}
}

// TestShutdownTimeout checks that a comet that never takes its queue makes
// Shutdown give up at the deadline, counting what was left.
func TestShutdownTimeout(t *testing.T) {
	h := newHarness(t, Config{}, []string{"a", "b"}, "b")
	for _, b := range bodies(5) {
		h.pushRoom("live://"+b, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.job.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
	}
	st := h.job.Stats()
	if st.DroppedShutdown != 5 || st.DeliveredMsgs != 5 {
		t.Errorf("stats = %+v", st)
	}
}

// TestShutdownStaysOffline checks that once Shutdown reported the job
// offline, the periodic reports during the drain do not announce it online
// again (logic would route pushes to a job that refuses them).
func TestShutdownStaysOffline(t *testing.T) {
	cfg := Config{AdvertiseAddr: "127.0.0.1:1", ReportInterval: time.Millisecond}
	h := newHarness(t, cfg, []string{"a"}, "a")
	h.pushRoom("live://1", "m") // held by the blocked comet: Shutdown waits
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		done <- h.job.Shutdown(ctx)
	}()
	testwait.For(t, 10*time.Second, "an offline report", func() bool {
		rep, ok := h.logic.lastReport()
		return ok && rep.Node.Offline
	})
	offlineAt := h.logic.reportCount()
	testwait.For(t, 10*time.Second, "more reports", func() bool { return h.logic.reportCount() >= offlineAt+5 })
	h.comet("a").unblock()
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for i, rep := range h.logic.reportsSince(offlineAt) {
		if !rep.Node.Offline {
			t.Fatalf("report %d after the offline one says online", i)
		}
	}
}

// TestRoomPushFetchesCometsWhenNoneKnown checks that a room push reaching a
// job that knows no comet yet (just started, or restarted under an id
// logic still routes to) fetches the list first instead of dropping it.
func TestRoomPushFetchesCometsWhenNoneKnown(t *testing.T) {
	h := startHarness(t, Config{CometRefresh: time.Hour}, nil)
	h.logic.setComets("c1")
	h.job.refreshMu.Lock()
	h.job.lastRefresh = time.Time{} // the background fetch found none, long ago
	h.job.refreshMu.Unlock()
	msg := jobrpc.PushMsg{Type: jobrpc.PushRoom, Op: 1000, Room: "live://1", Msg: []byte("first")}
	if err := h.job.Push(context.Background(), &msg); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "room message at c1", func() bool {
		c := h.comet("c1")
		return c != nil && len(c.roomBodies("live://1")) == 1
	})
	if st := h.job.Stats(); st.DroppedNoComet != 0 {
		t.Errorf("DroppedNoComet = %d, want 0", st.DroppedNoComet)
	}
}
