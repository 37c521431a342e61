package logic

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
	"github.com/google/go-cmp/cmp"
)

func weightedComet(id, region string, weight, conns int32) logicrpc.NodeInfo {
	n := cometInfo(id)
	n.Region, n.Weight, n.ConnCount = region, weight, conns
	return n
}

// picks runs n /nodes/weighted picks and counts which node came first.
func picks(e *testEnv, region string, n int) map[string]int {
	counts := make(map[string]int)
	for range n {
		nodes := e.l.reg.pickNodes(region, e.l.cfg.RegionFactor, false, "", e.clock.Now())
		counts[nodes[0]]++
	}
	return counts
}

func TestBalancerDistribution(t *testing.T) {
	tests := []struct {
		name   string
		nodes  []logicrpc.NodeInfo
		region string
		n      int
		want   map[string]float64 // share of picks
	}{
		{"by weight", []logicrpc.NodeInfo{
			weightedComet("a", "", 1, 0), weightedComet("b", "", 2, 0), weightedComet("c", "", 3, 0),
		}, "", 6000, map[string]float64{"a.addr": 1.0 / 6, "b.addr": 2.0 / 6, "c.addr": 3.0 / 6}},
		{"zero weight is one", []logicrpc.NodeInfo{
			weightedComet("a", "", 0, 0), weightedComet("b", "", 1, 0),
		}, "", 1000, map[string]float64{"a.addr": 0.5, "b.addr": 0.5}},
		// b already holds 1000 connections: new clients go to a until both
		// are even, then alternate.
		{"fills the emptier node", []logicrpc.NodeInfo{
			weightedComet("a", "", 1, 0), weightedComet("b", "", 1, 1000),
		}, "", 2000, map[string]float64{"a.addr": 0.75, "b.addr": 0.25}},
		{"region gain", []logicrpc.NodeInfo{
			weightedComet("a", "sh", 1, 0), weightedComet("b", "bj", 1, 0),
		}, "sh", 2600, map[string]float64{"a.addr": 1.6 / 2.6, "b.addr": 1 / 2.6}},
		{"other region no gain", []logicrpc.NodeInfo{
			weightedComet("a", "sh", 1, 0), weightedComet("b", "bj", 1, 0),
		}, "gz", 1000, map[string]float64{"a.addr": 0.5, "b.addr": 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			for _, n := range tt.nodes {
				e.report(t, n, nil)
			}
			got := picks(e, tt.region, tt.n)
			for addr, share := range tt.want {
				if d := math.Abs(float64(got[addr])/float64(tt.n) - share); d > 0.01 {
					t.Errorf("%s got %d of %d picks, want share %.3f", addr, got[addr], tt.n, share)
				}
			}
		})
	}
}

func TestBalancerPicksResetOnReport(t *testing.T) {
	e := newTestEnv(t, nil)
	e.report(t, weightedComet("a", "", 1, 0), nil)
	e.report(t, weightedComet("b", "", 1, 0), nil)
	picks(e, "", 100)
	// b reports the connections it really got (none), a reports 50: b
	// must get the next picks.
	e.report(t, weightedComet("a", "", 1, 50), nil)
	e.report(t, weightedComet("b", "", 1, 0), nil)
	if got := picks(e, "", 50); got["b.addr"] != 50 {
		t.Errorf("after reports, picks = %v, want all 50 on b", got)
	}
}

func TestBalancerNodes(t *testing.T) {
	e := newTestEnv(t, nil)
	now := e.clock.Now
	if got := e.l.nodesWeighted(context.Background(), "", false).Nodes; !cmp.Equal(got, []string{DefaultDomain}) {
		t.Errorf("no comets: nodes = %v", got)
	}
	for i := range 7 {
		n := weightedComet(fmt.Sprint("c", i), "", 1, int32(i*10))
		n.Addrs = []string{fmt.Sprintf("10.0.0.%d", i), fmt.Sprintf("[fd00::%d]", i)}
		e.report(t, n, nil)
	}
	off := weightedComet("off", "", 100, 0)
	off.Offline = true
	e.report(t, off, nil)
	web := e.l.reg.pickNodes("", 1, true, ".goim.io", now())
	if diff := cmp.Diff([]string{"c0.goim.io", "c1.goim.io", "c2.goim.io", "c3.goim.io", "c4.goim.io"}, web); diff != "" {
		t.Errorf("web (-want +got):\n%s", diff)
	}
	addrs := e.l.reg.pickNodes("", 1, false, ".goim.io", now())
	want := []string{"10.0.0.0", "[fd00::0]", "10.0.0.1", "[fd00::1]", "10.0.0.2", "[fd00::2]", "10.0.0.3", "[fd00::3]", "10.0.0.4", "[fd00::4]"}
	if diff := cmp.Diff(want, addrs); diff != "" {
		t.Errorf("addrs (-want +got):\n%s", diff)
	}
	// Every comet silent: the default domain again.
	e.clock.Advance(DefaultNodeTTL + time.Second)
	if got := e.l.nodesWeighted(context.Background(), "", true).Nodes; !cmp.Equal(got, []string{DefaultDomain}) {
		t.Errorf("all silent: nodes = %v", got)
	}
}
