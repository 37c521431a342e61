package logic

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestReportKnownAndEpoch(t *testing.T) {
	e := newTestEnv(t, nil)
	first := e.report(t, cometInfo("c1"), nil)
	if first.Known || first.Epoch != e.l.Epoch() || first.Epoch == 0 {
		t.Fatalf("first report: %+v, epoch %d", first, e.l.Epoch())
	}
	e.clock.Advance(3 * time.Second)
	if again := e.report(t, cometInfo("c1"), nil); !again.Known || again.Epoch != first.Epoch {
		t.Fatalf("second report: %+v", again)
	}
	e.clock.Advance(DefaultNodeTTL + time.Second)
	if late := e.report(t, cometInfo("c1"), nil); late.Known {
		t.Fatal("a report after the deadline says the node was known")
	}
}

func TestReportBadNode(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, n := range []logicrpc.NodeInfo{{Kind: logicrpc.KindComet}, {ID: "x", Kind: "mystery"}, {ID: "x"}} {
		_, err := e.l.Report(context.Background(), &logicrpc.ReportReq{Node: n})
		if !errors.Is(err, logicrpc.ErrBadNode) {
			t.Errorf("report %+v: err = %v, want logicrpc.ErrBadNode", n, err)
		}
	}
}

// TestOnlineAggregation sums room counts across comets, answers them in
// report replies and drops a comet that goes silent.
func TestOnlineAggregation(t *testing.T) {
	e := newTestEnv(t, nil)
	now := e.clock.Now
	e.addComet(t, "c1", map[string]int32{"live://1": 10, "live://2": 5})
	e.clock.Advance(5 * time.Second)
	c2 := cometInfo("c2")
	c2.ConnCount, c2.IPCount = 7, 3
	rep := e.report(t, c2, map[string]int32{"live://1": 3, "chat://9": 4, "live://3": 0})
	want := map[string]int32{"live://1": 13, "chat://9": 4, "live://3": 0}
	if diff := cmp.Diff(want, rep.RoomCount); diff != "" {
		t.Errorf("reply room counts (-want +got):\n%s", diff)
	}
	tops := e.l.reg.onlineTop("live", 10, now())
	if diff := cmp.Diff([]Top{{"1", 13}, {"2", 5}}, tops); diff != "" {
		t.Errorf("top (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(OnlineTotal{7, 3}, e.l.reg.onlineTotal(now())); diff != "" {
		t.Errorf("total (-want +got):\n%s", diff)
	}
	// c1 reports again with fewer rooms: its old counts are replaced.
	e.addComet(t, "c1", map[string]int32{"live://2": 1})
	rooms := e.l.reg.onlineRooms("live", []string{"1", "2", "404"}, now())
	if diff := cmp.Diff(map[string]int32{"1": 3, "2": 1, "404": 0}, rooms); diff != "" {
		t.Errorf("rooms after c1 changed (-want +got):\n%s", diff)
	}
	// c2 (last seen 5s after start) goes silent; c1 keeps reporting.
	e.clock.Advance(DefaultNodeTTL - 2*time.Second)
	e.addComet(t, "c1", map[string]int32{"live://2": 1})
	e.clock.Advance(3 * time.Second) // c2 silent for NodeTTL+1s
	rooms = e.l.reg.onlineRooms("live", []string{"1", "2"}, now())
	if diff := cmp.Diff(map[string]int32{"1": 0, "2": 1}, rooms); diff != "" {
		t.Errorf("rooms after c2 went silent (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(OnlineTotal{}, e.l.reg.onlineTotal(now())); diff != "" {
		t.Errorf("total after c2 went silent (-want +got):\n%s", diff)
	}
	if got := e.l.reg.onlineTop("chat", 10, now()); len(got) != 0 {
		t.Errorf("chat top after c2 went silent: %v", got)
	}
	if len(e.l.reg.rooms) != 1 {
		t.Errorf("room totals keep emptied rooms: %v", e.l.reg.rooms)
	}
}

func TestOnlineTopOrderAndLimit(t *testing.T) {
	e := newTestEnv(t, nil)
	rooms := map[string]int32{"live://a": 5, "live://b": 9, "live://c": 5, "live://d": 1, "livex://z": 100, "x://live": 50}
	e.addComet(t, "c1", rooms)
	got := e.l.reg.onlineTop("live", 3, e.clock.Now())
	if diff := cmp.Diff([]Top{{"b", 9}, {"a", 5}, {"c", 5}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNodesRPCAndJobExpiry(t *testing.T) {
	e := newTestEnv(t, nil)
	e.addComet(t, "c2", nil)
	e.addComet(t, "c1", nil)
	e.addJob(t, "j1")
	ctx := context.Background()
	ids := func(kind string) []string {
		rep, err := e.l.Nodes(ctx, &logicrpc.NodesReq{Kind: kind})
		must(t, err)
		var out []string
		for _, n := range rep.Nodes {
			out = append(out, n.Kind+"/"+n.ID)
		}
		return out
	}
	if diff := cmp.Diff([]string{"comet/c1", "comet/c2"}, ids(logicrpc.KindComet)); diff != "" {
		t.Errorf("comets (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"comet/c1", "comet/c2", "job/j1"}, ids("")); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}
	if _, err := e.l.Nodes(ctx, &logicrpc.NodesReq{Kind: "bogus"}); !errors.Is(err, logicrpc.ErrBadNode) {
		t.Errorf("bogus kind: %v", err)
	}
	if _, ok := e.l.reg.pickJob("x", e.clock.Now()); !ok {
		t.Fatal("no job picked")
	}
	e.clock.Advance(DefaultNodeTTL + time.Second)
	if _, ok := e.l.reg.pickJob("x", e.clock.Now()); ok {
		t.Error("silent job still picked")
	}
	if got := ids(""); len(got) != 0 {
		t.Errorf("nodes after expiry: %v", got)
	}
}

func TestJobClientClosedWhenJobLeaves(t *testing.T) {
	// The sweeper ticks every NodeTTL/2 of real time; expiry follows the
	// fake clock.
	e := newTestEnv(t, func(c *Config) { c.NodeTTL = 100 * time.Millisecond })
	e.addJob(t, "j1")
	e.addComet(t, "c1", nil)
	_ = e.connect(t, "c1", 1, `{"key":"k"}`)
	if _, err := e.l.PushKeys(context.Background(), 1, []string{"k"}, nil); err != nil {
		t.Fatal(err)
	}
	j := e.jobs.get("j1")
	if j.isClosed() {
		t.Fatal("live job's client closed")
	}
	e.clock.Advance(time.Second)
	testwait.For(t, 5*time.Second, "job client closed", j.isClosed)
}

func TestPickJobStable(t *testing.T) {
	e := newTestEnv(t, nil)
	for i := range 4 {
		e.addJob(t, fmt.Sprint("j", i))
	}
	now := e.clock.Now()
	before := make(map[string]string)
	counts := make(map[string]int)
	for i := range 4000 {
		k := fmt.Sprint("room", i)
		j, _ := e.l.reg.pickJob(k, now)
		before[k] = j.id
		counts[j.id]++
	}
	for id, n := range counts {
		if n < 700 || n > 1300 {
			t.Errorf("job %s got %d of 4000 keys", id, n)
		}
	}
	// j3 goes silent: only its keys move.
	e.clock.Advance(DefaultNodeTTL - time.Second)
	for i := range 3 {
		e.addJob(t, fmt.Sprint("j", i))
	}
	e.clock.Advance(2 * time.Second)
	now = e.clock.Now()
	for k, old := range before {
		j, _ := e.l.reg.pickJob(k, now)
		if old != "j3" && j.id != old {
			t.Fatalf("key %s moved from %s to %s", k, old, j.id)
		}
		if j.id == "j3" {
			t.Fatalf("key %s still on silent j3", k)
		}
	}
}

func TestInstances(t *testing.T) {
	e := newTestEnv(t, nil)
	n := logicrpc.NodeInfo{
		ID: "comet-1", Kind: logicrpc.KindComet, RPCAddr: "192.168.1.30:3109", Addrs: []string{"47.89.10.97", "47.89.10.98"},
		Hostname: "test", Region: "sh", Zone: "sh001", Env: "dev", Version: "v1", Weight: 10, ConnCount: 1, IPCount: 1,
	}
	e.report(t, n, nil)
	off := logicrpc.NodeInfo{ID: "comet-2", Kind: logicrpc.KindComet, Offline: true}
	e.report(t, off, nil)
	want := []Instance{{
		Region: "sh", Zone: "sh001", Env: "dev", AppID: "goim.comet", Hostname: "test",
		Addrs: []string{"rpc://192.168.1.30:3109"}, Version: "v1", LatestTimestamp: e.clock.Now().UnixNano(),
		Metadata: InstanceMetadata{Addrs: "47.89.10.97,47.89.10.98", ConnCount: "1", IPCount: "1", Offline: "false", Weight: "10"},
	}, {
		AppID: "goim.comet", Hostname: "comet-2", Addrs: []string{}, LatestTimestamp: e.clock.Now().UnixNano(),
		Metadata: InstanceMetadata{ConnCount: "0", IPCount: "0", Offline: "true", Weight: "0"},
	}}
	if diff := cmp.Diff(want, e.l.reg.instances(e.clock.Now()), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestPickJobSkipsOfflineJob(t *testing.T) {
	e := newTestEnv(t, nil)
	e.addJob(t, "j1")
	e.addJob(t, "j2")
	e.report(t, logicrpc.NodeInfo{ID: "j2", Kind: logicrpc.KindJob, RPCAddr: "j2:1", Offline: true}, nil)
	now := e.clock.Now()
	for i := range 200 {
		j, ok := e.l.reg.pickJob(fmt.Sprint("room", i), now)
		if !ok || j.id != "j1" {
			t.Fatalf("key %d went to %q (ok %v), want j1: j2 is offline", i, j.id, ok)
		}
	}
	e.addJob(t, "j2") // back online
	picked := make(map[string]bool)
	for i := range 200 {
		j, _ := e.l.reg.pickJob(fmt.Sprint("room", i), now)
		picked[j.id] = true
	}
	if !picked["j2"] {
		t.Error("j2 back online but never picked")
	}
}
