package logicrpc

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/goimx/goim/rpc"
)

// countingLogic answers Report and counts the reports; every other method
// fails with err.
type countingLogic struct {
	failingLogic
	reports atomic.Int32
}

func (c *countingLogic) Report(context.Context, *ReportReq) (*ReportReply, error) {
	c.reports.Add(1)
	return &ReportReply{Known: true}, nil
}

// serveLogic serves svc on a loopback listener; the returned func stops
// it (idempotent).
func serveLogic(t *testing.T, svc Service) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := rpc.NewServer(rpc.ServerConfig{}, slog.New(slog.DiscardHandler))
	Register(s, svc)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			s.Close()
			<-served
		}
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

// TestFailover: calls reach the live node whichever is preferred; a node
// going down moves the calls to the other one at once; an application
// error is returned without trying another node.
func TestFailover(t *testing.T) {
	a, b := &countingLogic{failingLogic: failingLogic{err: ErrBadToken}}, &countingLogic{failingLogic: failingLogic{err: ErrBadToken}}
	addrA, stopA := serveLogic(t, a)
	addrB, _ := serveLogic(t, b)
	cfg := rpc.ClientConfig{MinBackoff: time.Hour, MaxBackoff: time.Hour}
	f := NewFailover([]string{addrA, addrB}, cfg, slog.New(slog.DiscardHandler))
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	const calls = 10
	for range calls {
		if _, err := f.Report(ctx, &ReportReq{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.reports.Load() + b.reports.Load(); got != calls {
		t.Fatalf("%d reports reached a node, want %d", got, calls)
	}
	if a.reports.Load() != 0 && b.reports.Load() != 0 {
		t.Fatalf("reports split %d/%d: want all on the preferred node", a.reports.Load(), b.reports.Load())
	}

	// Make A the preferred node, then take it down.
	f.pref.Store(0)
	before := a.reports.Load()
	if _, err := f.Report(ctx, &ReportReq{}); err != nil || a.reports.Load() != before+1 {
		t.Fatalf("report to A: %v (A has %d, had %d)", err, a.reports.Load(), before)
	}
	stopA()
	bBefore := b.reports.Load()
	for i := range calls {
		if _, err := f.Report(ctx, &ReportReq{}); err != nil {
			t.Fatalf("report %d with A down: %v", i, err)
		}
	}
	if got := b.reports.Load() - bBefore; got != calls {
		t.Fatalf("B got %d of %d reports with A down", got, calls)
	}
	if f.Preferred() != addrB {
		t.Fatalf("preferred %s, want %s", f.Preferred(), addrB)
	}

	// An application error comes back as it is.
	if _, err := f.Connect(ctx, &ConnectReq{}); !errors.Is(err, ErrBadToken) {
		t.Fatalf("connect: %v, want ErrBadToken", err)
	}
	if err := f.Heartbeat(ctx, &HeartbeatReq{}); !errors.Is(err, ErrBadToken) {
		t.Fatalf("heartbeat: %v, want ErrBadToken", err)
	}
}

// TestFailoverAllDown: with no node up, a call fails with a link error
// naming every node.
func TestFailoverAllDown(t *testing.T) {
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, ln.Addr().String())
		ln.Close()
	}
	f := NewFailover(addrs, rpc.ClientConfig{MinBackoff: time.Hour, MaxBackoff: time.Hour}, slog.New(slog.DiscardHandler))
	defer f.Close()
	_, err := f.Report(context.Background(), &ReportReq{})
	if !errors.Is(err, rpc.ErrUnavailable) {
		t.Fatalf("report with every node down: %v, want ErrUnavailable", err)
	}
	for _, a := range addrs {
		if !strings.Contains(err.Error(), a) {
			t.Errorf("error %q does not name %s", err, a)
		}
	}
}

// TestSplitAddrs covers the list syntax of the -logic flags.
func TestSplitAddrs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a:1", []string{"a:1"}},
		{"a:1,b:2", []string{"a:1", "b:2"}},
		{" a:1 , ,b:2,", []string{"a:1", "b:2"}},
		{"", nil},
	}
	for _, tt := range tests {
		got := SplitAddrs(tt.in)
		if len(got) != len(tt.want) {
			t.Errorf("SplitAddrs(%q) = %q, want %q", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("SplitAddrs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		}
	}
}

// connectLogic answers Connect with rep; every other method fails.
type connectLogic struct {
	failingLogic
	rep ConnectReply
}

func (c *connectLogic) Connect(context.Context, *ConnectReq) (*ConnectReply, error) {
	rep := c.rep
	return &rep, nil
}

// TestConnectInto: ConnectInto answers as Connect does, through a Client
// and through a Failover whose preferred node is down, and sets every
// field of a reply that held an earlier answer.
func TestConnectInto(t *testing.T) {
	want := ConnectReply{Mid: 7, Key: "k", RoomID: "live://1", Platform: "web", Accepts: []int32{1000, 1001},
		Heartbeat: time.Minute, Rooms: []string{"live://2"}, Resume: true, RoomEpoch: 3, RoomSeq: 9}
	addrDown, stop := serveLogic(t, &connectLogic{})
	stop()
	addr, _ := serveLogic(t, &connectLogic{rep: want})
	cfg := rpc.ClientConfig{MinBackoff: time.Hour, MaxBackoff: time.Hour}
	client := NewClient(addr, cfg, slog.New(slog.DiscardHandler))
	defer client.Close()
	failover := NewFailover([]string{addrDown, addr}, cfg, slog.New(slog.DiscardHandler))
	defer failover.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tt := range []struct {
		name string
		svc  ConnectIntoService
	}{{"client", client}, {"failover", failover}} {
		rep := ConnectReply{Mid: 1, Key: "old", RoomID: "old", Platform: "old", Accepts: []int32{1},
			Heartbeat: time.Second, Rooms: []string{"old"}, RoomEpoch: 1, RoomSeq: 1}
		if err := tt.svc.ConnectInto(ctx, &ConnectReq{Token: []byte("{}")}, &rep); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(want, rep); diff != "" {
			t.Errorf("%s: reply (-want +got):\n%s", tt.name, diff)
		}
	}
}
