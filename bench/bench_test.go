package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/job"
)

// An in-process benchmark spends two descriptors per connection (client
// and server side) under a limit of 20,000, so its largest fan-out is
// 9,900 connections; cmd/goim-bench measures 10,000 and more from its own
// process.
const maxInProcess = 9900

// fixture is a cluster with a connected fleet, shared by the runs of one
// sub-benchmark (the testing package calls it several times while it
// sizes b.N).
type fixture struct {
	c *Cluster
	f *Fleet
	w Workload
}

// newFixture starts a cluster and connects n clients of w over transport.
func newFixture(tb testing.TB, cfg ClusterConfig, transport string, n int, w Workload) *fixture {
	tb.Helper()
	c, err := StartCluster(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	addr := c.TCPAddr
	if transport == client.TransportWS {
		addr = c.WSAddr
	}
	w = w.withDefaults()
	f := NewFleet(FleetConfig{Addr: addr, Transport: transport, N: n, Token: w.Token, Op: w.Op, LocalIPs: LoopbackIPs(8)})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := f.Connect(ctx); err != nil {
		f.Close()
		c.Close()
		tb.Fatal(err)
	}
	fx := &fixture{c: c, f: f, w: w}
	testwait.For(tb, 10*time.Second, "connections registered", func() bool { return c.Comet.Stats().Conns == n })
	return fx
}

// close disconnects the fleet and stops the cluster.
func (fx *fixture) close() {
	fx.f.Close()
	fx.c.Close()
}

// withFixture runs a sub-benchmark on a fixture made on its first run and
// closed after its last.
func withFixture(b *testing.B, name string, mk func(b *testing.B) *fixture, run func(b *testing.B, fx *fixture)) {
	var fx *fixture
	b.Run(name, func(b *testing.B) {
		if fx == nil {
			fx = mk(b)
		}
		run(b, fx)
	})
	if fx != nil {
		fx.close()
	}
}

// benchPush pushes b.N messages of kind through the HTTP API with conc
// callers, at most window of them not yet fully delivered (0: no limit),
// and waits until every addressed connection received every message
// before the timer stops. It reports fully delivered messages and
// deliveries per second, and the p50 and p99 push-to-receive latency.
func benchPush(b *testing.B, fx *fixture, kind string, conc, window int) {
	w := fx.w
	w.Kind = kind
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Run(context.Background(), fx.f, w, RunConfig{
		HTTPAddr: fx.c.HTTPAddr,
		Load:     LoadConfig{Count: b.N, Concurrency: conc},
		Window:   window,
		Drain:    10 * time.Second,
	})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if !res.AllDelivered() || res.Short != 0 {
		b.Fatalf("%d pushes failed (%s), %d found too few connections, %d of %d deliveries missing",
			res.Failed, res.FirstErr, res.Short, res.Missing, res.Expected)
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(res.OK)/secs, "msgs/s")
	b.ReportMetric(float64(res.Delivered)/secs, "deliveries/s")
	b.ReportMetric(res.Latency.P50, "p50-ms")
	b.ReportMetric(res.Latency.P99, "p99-ms")
}

// roomSizes are the room sizes measured: 1,000 always, the largest
// in-process size unless -short.
func roomSizes() []int {
	if testing.Short() {
		return []int{1000}
	}
	return []int{1000, maxInProcess}
}

// BenchmarkRoom pushes to one room whose members are all the connections,
// with job's room batching on (the default) and off (every message alone).
func BenchmarkRoom(b *testing.B) {
	for _, batch := range []bool{true, false} {
		cfg := ClusterConfig{}
		if !batch {
			cfg.Job = job.Config{BatchSize: 1}
		}
		for _, transport := range []string{client.TransportTCP, client.TransportWS} {
			for _, n := range roomSizes() {
				if transport == client.TransportWS && n > 1000 {
					continue
				}
				name := fmt.Sprintf("batch=%s/%s/members=%d", onOff(batch), transport, n)
				withFixture(b, name, func(b *testing.B) *fixture {
					return newFixture(b, cfg, transport, n, Workload{})
				}, func(b *testing.B, fx *fixture) {
					benchPush(b, fx, KindRoom, 2, 16)
				})
			}
		}
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// BenchmarkKeys pushes to one key per push, round robin over 1,000
// connections, with 16 callers; the tiers talk over the RPC on loopback
// (link=rpc, as separate processes do) or call each other in process
// (link=direct).
func BenchmarkKeys(b *testing.B) {
	for _, direct := range []bool{false, true} {
		link := "rpc"
		if direct {
			link = "direct"
		}
		withFixture(b, "link="+link, func(b *testing.B) *fixture {
			return newFixture(b, ClusterConfig{Direct: direct}, client.TransportTCP, 1000, Workload{})
		}, func(b *testing.B, fx *fixture) {
			benchPush(b, fx, KindKeys, 16, 0)
		})
	}
}

// BenchmarkMids pushes to one user per push, each user with two
// connections (devices), round robin over 500 users, with 16 callers.
func BenchmarkMids(b *testing.B) {
	withFixture(b, "devices=2", func(b *testing.B) *fixture {
		return newFixture(b, ClusterConfig{}, client.TransportTCP, 1000, Workload{Devices: 2})
	}, func(b *testing.B, fx *fixture) {
		benchPush(b, fx, KindMids, 16, 0)
	})
}

// BenchmarkBroadcast pushes to every connection (push/all) of 1,000.
func BenchmarkBroadcast(b *testing.B) {
	withFixture(b, "conns=1000", func(b *testing.B) *fixture {
		return newFixture(b, ClusterConfig{}, client.TransportTCP, 1000, Workload{})
	}, func(b *testing.B, fx *fixture) {
		benchPush(b, fx, KindAll, 2, 16)
	})
}

// BenchmarkHTTPPush measures push/keys requests per second with 50
// concurrent callers, each push reaching one of 1,000 connections.
func BenchmarkHTTPPush(b *testing.B) {
	withFixture(b, "keys/callers=50", func(b *testing.B) *fixture {
		return newFixture(b, ClusterConfig{}, client.TransportTCP, 1000, Workload{})
	}, func(b *testing.B, fx *fixture) {
		benchPush(b, fx, KindKeys, 50, 0)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reqs/s")
	})
}

// BenchmarkIdleConn measures what an idle authenticated connection costs
// the process running the cluster: the connections are held by a child
// process, and the growth of RSS, live heap and goroutine stacks after a
// full collection (with freed memory returned to the system) is divided
// by their number.
func BenchmarkIdleConn(b *testing.B) {
	sizes := []int{1000}
	if !testing.Short() {
		sizes = append(sizes, maxInProcess)
	}
	for _, transport := range []string{client.TransportTCP, client.TransportWS} {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("%s/conns=%d", transport, n), func(b *testing.B) { benchIdle(b, transport, n) })
		}
	}
}

func benchIdle(b *testing.B, transport string, n int) {
	c := startTestCluster(b, ClusterConfig{})
	addr := c.TCPAddr
	if transport == client.TransportWS {
		addr = c.WSAddr
	}
	for b.Loop() {
		before := settledMem(b)
		child := startClientChild(b, transport, addr, n)
		testwait.For(b, 10*time.Second, "connections registered", func() bool { return c.Comet.Stats().Conns == n })
		after := settledMem(b)
		child.stop()
		testwait.For(b, 10*time.Second, "connections closed", func() bool { return c.Comet.Stats().Conns == 0 })
		per := func(a, z uint64) float64 { return (float64(z) - float64(a)) / float64(n) }
		b.ReportMetric(per(before.rss, after.rss), "B-rss/conn")
		b.ReportMetric(per(before.heap, after.heap), "B-heap/conn")
		b.ReportMetric(per(before.stacks, after.stacks), "B-stack/conn")
	}
}

// memState is this process's memory after a collection.
type memState struct{ rss, heap, stacks uint64 }

// settledMem collects garbage (twice, so that pooled objects go too),
// returns freed memory to the system and reads RSS, live heap objects and
// goroutine stacks.
func settledMem(tb testing.TB) memState {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	p, err := ReadProc(os.Getpid())
	if err != nil {
		tb.Fatal(err)
	}
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
	}
	metrics.Read(samples)
	return memState{rss: uint64(p.RSS), heap: samples[0].Value.Uint64(), stacks: samples[1].Value.Uint64()}
}
