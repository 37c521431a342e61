package bench

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/job"
)

// startTestCluster starts a cluster stopped at the end of the test.
func startTestCluster(t testing.TB, cfg ClusterConfig) *Cluster {
	t.Helper()
	c, err := StartCluster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close cluster: %v", err)
		}
	})
	return c
}

// connectFleet connects n connections of w to addr over transport, read
// by reader, and closes them at the end of the test.
func connectFleet(t testing.TB, addr, transport, reader string, n int, w Workload) *Fleet {
	t.Helper()
	w = w.withDefaults()
	f := NewFleet(FleetConfig{Addr: addr, Transport: transport, N: n, Token: w.Token, Op: w.Op, Dialers: 8, Reader: reader})
	t.Cleanup(f.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestScenarios runs a tiny version of every end-to-end scenario against
// an in-process cluster, over TCP and WebSocket, with the tiers linked by
// the RPC and directly: every push must reach every connection it
// addresses.
func TestScenarios(t *testing.T) {
	for _, direct := range []bool{false, true} {
		for _, transport := range []string{client.TransportTCP, client.TransportWS} {
			for _, reader := range readers {
				t.Run(fmt.Sprintf("direct=%v/%s/%s", direct, transport, reader), func(t *testing.T) {
					testScenarios(t, direct, transport, reader)
				})
			}
		}
	}
}

func testScenarios(t *testing.T, direct bool, transport, reader string) {
	c := startTestCluster(t, ClusterConfig{Direct: direct})
	addr := c.TCPAddr
	if transport == client.TransportWS {
		addr = c.WSAddr
	}
	const n = 20
	w := Workload{Devices: 2}
	f := connectFleet(t, addr, transport, reader, n, w)
	testwait.For(t, 10*time.Second, "connections registered", func() bool { return c.Comet.Stats().Conns == n })
	tests := []struct {
		kind    string
		pushes  int
		perPush int
	}{
		{KindRoom, 5, n},
		{KindKeys, 10, 1},
		{KindMids, 10, 2},
		{KindAll, 5, n},
	}
	for _, tt := range tests {
		w.Kind = tt.kind
		res, err := Run(context.Background(), f, w, RunConfig{
			HTTPAddr: c.HTTPAddr,
			Load:     LoadConfig{Count: tt.pushes, Concurrency: 2},
			Drain:    5 * time.Second,
		})
		if err != nil {
			t.Fatalf("%s: %v", tt.kind, err)
		}
		want := uint64(tt.pushes * tt.perPush)
		if res.Failed != 0 || res.Expected != want || res.Delivered != want || !res.AllDelivered() {
			t.Errorf("%s: failed %d (%s), expected %d, delivered %d; want %d delivered", tt.kind, res.Failed, res.FirstErr, res.Expected, res.Delivered, want)
		}
		if res.Latency.P99 <= 0 || res.Latency.Max < res.Latency.P50 {
			t.Errorf("%s: latency %+v", tt.kind, res.Latency)
		}
	}
}

// TestBatchingOff checks that the harness passes job's batching switch on.
func TestBatchingOff(t *testing.T) {
	c := startTestCluster(t, ClusterConfig{Job: job.Config{BatchSize: 1}})
	w := Workload{Kind: KindRoom}
	f := connectFleet(t, c.TCPAddr, client.TransportTCP, ReaderConn, 5, w)
	testwait.For(t, 10*time.Second, "connections registered", func() bool { return c.Comet.Stats().Conns == 5 })
	res, err := Run(context.Background(), f, w, RunConfig{HTTPAddr: c.HTTPAddr, Load: LoadConfig{Count: 20, Concurrency: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.AllDelivered() || res.Delivered != 100 {
		t.Fatalf("delivered %d of %d, failed %d (%s)", res.Delivered, res.Expected, res.Failed, res.FirstErr)
	}
	if st := c.Job.Stats(); st.Batches != st.BatchedMsgs {
		t.Errorf("batching off: %d batches for %d messages", st.Batches, st.BatchedMsgs)
	}
}

// TestIdle runs the idle scenario small: the in-process measurement
// (MeasureIdle) and the child process that holds connections for
// BenchmarkIdleConn.
func TestIdle(t *testing.T) {
	c := startTestCluster(t, ClusterConfig{})
	w := Workload{}.withDefaults()
	f := NewFleet(FleetConfig{Addr: c.TCPAddr, N: 10, Token: w.Token, Op: w.Op, Reader: ReaderEpoll})
	defer f.Close()
	res, err := MeasureIdle(context.Background(), f, []int{os.Getpid()}, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Conns != 10 || len(res.Procs) != 1 || res.Procs[0].RSSAfterMB <= 0 || res.Procs[0].FDs <= 0 {
		t.Errorf("idle result %+v", res)
	}
	f.Close()
	testwait.For(t, 10*time.Second, "connections closed", func() bool { return c.Comet.Stats().Conns == 0 })

	child := startClientChild(t, client.TransportWS, c.WSAddr, 5)
	testwait.For(t, 10*time.Second, "child connections", func() bool { return c.Comet.Stats().Conns == 5 })
	child.stop()
	testwait.For(t, 10*time.Second, "child connections closed", func() bool { return c.Comet.Stats().Conns == 0 })
}
