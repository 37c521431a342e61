package comet

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/logic/logicrpc"
)

func TestReport(t *testing.T) {
	logic := &fakeLogic{epoch: 1}
	s := startServer(t, Config{
		NodeID: "c1", RPCAdvertise: "10.0.0.1:3109", Addrs: []string{"1.2.3.4"}, Region: "sh", Zone: "sh001",
		Env: "prod", Version: "v9", Offline: true,
	}, logic)
	ctx := context.Background()
	authed(t, s, func(tb testing.TB, s *server) *client { return dialTCP(tb, s.tcp) }, token{Mid: 1, Key: "a", RoomID: "live://1"}, 1)
	authed(t, s, func(tb testing.TB, s *server) *client { return dialWS(tb, s.ws) }, token{Mid: 2, Key: "b", RoomID: "live://2"}, 2)
	authed(t, s, func(tb testing.TB, s *server) *client { return dialTCP(tb, s.tcp) }, token{Mid: 3, Key: "c", RoomID: "live://2"}, 3)

	sessionsAfter := func() []logicrpc.Session {
		t.Helper()
		if err := s.cm.report(ctx); err != nil {
			t.Fatal(err)
		}
		logic.mu.Lock()
		defer logic.mu.Unlock()
		got := slices.Clone(logic.sessions)
		logic.sessions = nil
		return got
	}
	// Logic does not know this node yet: every session is re-sent.
	got := sessionsAfter()
	slices.SortFunc(got, func(a, b logicrpc.Session) int { return int(a.Mid - b.Mid) })
	want := []logicrpc.Session{{Mid: 1, Key: "a", RoomID: "live://1"}, {Mid: 2, Key: "b", RoomID: "live://2"}, {Mid: 3, Key: "c", RoomID: "live://2"}}
	for i := range got {
		got[i].ConnID = 0
	}
	if !slices.Equal(got, want) {
		t.Errorf("sessions %+v, want %+v", got, want)
	}
	logic.mu.Lock()
	rep := logic.reports[0]
	logic.mu.Unlock()
	wantNode := logicrpc.NodeInfo{ID: "c1", Kind: logicrpc.KindComet, RPCAddr: "10.0.0.1:3109", Addrs: []string{"1.2.3.4"},
		Hostname: s.cm.hostname, Region: "sh", Zone: "sh001", Env: "prod", Version: "v9", Weight: 10, Offline: true,
		ConnCount: 3, IPCount: 1}
	if n := rep.Node; n.ID != wantNode.ID || n.Kind != wantNode.Kind || n.RPCAddr != wantNode.RPCAddr ||
		!slices.Equal(n.Addrs, wantNode.Addrs) || n.Hostname != wantNode.Hostname || n.Region != "sh" || n.Zone != "sh001" ||
		n.Env != "prod" || n.Version != "v9" || n.Weight != 10 || !n.Offline || n.ConnCount != 3 || n.IPCount != 1 {
		t.Errorf("node %+v, want %+v", n, wantNode)
	}
	if rep.RoomCount["live://1"] != 1 || rep.RoomCount["live://2"] != 2 || len(rep.RoomCount) != 2 {
		t.Errorf("room counts %v", rep.RoomCount)
	}
	// Known node, same epoch: nothing re-sent.
	if got := sessionsAfter(); len(got) != 0 {
		t.Errorf("re-sent %d sessions to a logic that knew them", len(got))
	}
	// Logic restarted (new epoch): re-sent.
	logic.mu.Lock()
	logic.epoch = 2
	logic.mu.Unlock()
	if got := sessionsAfter(); len(got) != 3 {
		t.Errorf("re-sent %d sessions after a logic restart, want 3", len(got))
	}
	s.cm.SetOffline(false)
	s.cm.report(ctx)
	logic.mu.Lock()
	offline := logic.reports[len(logic.reports)-1].Node.Offline
	logic.mu.Unlock()
	if offline {
		t.Error("SetOffline(false) not reported")
	}
}

func TestReportLoop(t *testing.T) {
	logic := &fakeLogic{}
	s := startServer(t, Config{ReportInterval: 10 * time.Millisecond}, logic)
	ln := listenLoopback(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.cm.ServeRPC(ln)
	}()
	t.Cleanup(func() {
		s.cm.Close()
		<-done
	})
	// Reports run every 10ms from New on; once ServeRPC has its listener
	// they carry its address.
	testwait.For(t, waitTimeout, "reports with the RPC address", func() bool {
		logic.mu.Lock()
		defer logic.mu.Unlock()
		n := len(logic.reports)
		return n >= 3 && logic.reports[n-1].Node.RPCAddr != ""
	})
	logic.mu.Lock()
	addr := logic.reports[len(logic.reports)-1].Node.RPCAddr
	logic.mu.Unlock()
	if addr != ln.Addr().String() {
		t.Errorf("advertised RPC address %q, want the ServeRPC listener's %s", addr, ln.Addr())
	}
}

func TestManySessionsChunked(t *testing.T) {
	cm, err := New(Config{ReportInterval: -1, Buckets: 4}, &fakeLogic{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close()
	logic := &fakeLogic{}
	cm.logic = logic
	for i := range 2500 {
		addSinkConn(cm, string(rune(0x4e00+i)), "")
	}
	if err := cm.report(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(logic.sessions); n != 2500 {
		t.Errorf("%d sessions re-sent, want 2500", n)
	}
}

// TestReportNowAndRegistered: Registered is closed after the first report;
// ReportNow makes a report at once, long before the next ReportInterval.
func TestReportNowAndRegistered(t *testing.T) {
	logic := &fakeLogic{}
	cm, err := New(Config{ReportInterval: time.Hour}, logic, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cm.Close() })
	select {
	case <-cm.Registered():
	case <-time.After(waitTimeout):
		t.Fatal("not registered after the first report")
	}
	reports := func() int {
		logic.mu.Lock()
		defer logic.mu.Unlock()
		return len(logic.reports)
	}
	if n := reports(); n != 1 {
		t.Fatalf("%d reports after New, want 1", n)
	}
	cm.ReportNow()
	testwait.For(t, waitTimeout, "the report asked for", func() bool { return reports() == 2 })
}
