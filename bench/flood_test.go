package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/comet"
)

// floodCallers is how many HTTP callers push to the one connection of the
// flood scenario, as in the issue that found pushes lost to a full send
// queue.
const floodCallers = 50

// TestFloodLoss is the loss check: push/keys from 50 concurrent callers
// to one client that reads as fast as it can, at a modest open-loop rate
// and closed loop, over the RPC links and direct ones. Every push answered
// with code 0 must arrive, and the comet must count no drop. It asserts
// counts only, never timings.
func TestFloodLoss(t *testing.T) {
	for _, direct := range []bool{false, true} {
		for _, rate := range []float64{2000, 0} {
			t.Run(fmt.Sprintf("direct=%v/rate=%g", direct, rate), func(t *testing.T) {
				testFloodLoss(t, direct, rate)
			})
		}
	}
}

func testFloodLoss(t *testing.T, direct bool, rate float64) {
	const pushes = 3000
	c := startTestCluster(t, ClusterConfig{Direct: direct})
	w := Workload{Kind: KindKeys}
	f := connectFleet(t, c.TCPAddr, client.TransportTCP, ReaderConn, 1, w)
	testwait.For(t, 10*time.Second, "connection registered", func() bool { return c.Comet.Stats().Conns == 1 })
	res, err := Run(context.Background(), f, w, RunConfig{
		HTTPAddr: c.HTTPAddr,
		Load:     LoadConfig{Rate: rate, Count: pushes, Concurrency: floodCallers},
		Drain:    10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 0 || res.Short != 0 || res.Expected != pushes || res.Delivered != pushes || res.Missing != 0 {
		t.Errorf("failed %d (%s), short %d, expected %d, delivered %d, missing %d; want all %d delivered",
			res.Failed, res.FirstErr, res.Short, res.Expected, res.Delivered, res.Missing, pushes)
	}
	st := c.Comet.Stats()
	if len(st.Drops) != 0 || st.Enqueued < pushes {
		t.Errorf("comet drops %v, enqueued %d; want none and at least %d", st.Drops, st.Enqueued, pushes)
	}
}

// BenchmarkFlood pushes to one connection by key from 50 callers, closed
// loop: the HTTP push path at full speed into one client. It fails if an
// accepted push does not arrive, and reports the comet's drops (zero when
// it passes) with the requests per second.
func BenchmarkFlood(b *testing.B) {
	withFixture(b, "keys/conns=1/callers=50", func(b *testing.B) *fixture {
		return newFixture(b, ClusterConfig{}, client.TransportTCP, 1, Workload{})
	}, func(b *testing.B, fx *fixture) {
		before := dropsOf(fx.c.Comet.Stats())
		benchPush(b, fx, KindKeys, floodCallers, 0)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reqs/s")
		b.ReportMetric(float64(dropsOf(fx.c.Comet.Stats())-before), "drops")
	})
}

// dropsOf returns the comet's dropped messages, all reasons together.
func dropsOf(st comet.Stats) uint64 {
	var n uint64
	for _, d := range st.Drops {
		n += d
	}
	return n
}
