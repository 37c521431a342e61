package logic

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
)

// storeBenchEnv is a Logic with the given store config, 4 live comets, one
// job that accepts everything, and n sessions (mid i, key "k<i>").
func storeBenchEnv(b *testing.B, n int, mod func(*Config)) *Logic {
	cfg := Config{DialJob: func(logicrpc.NodeInfo) (jobrpc.Service, error) { return nopJob{}, nil }}
	mod(&cfg)
	l, err := New(cfg, discardLogger())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	ctx := context.Background()
	nodes := []logicrpc.NodeInfo{{ID: "j1", Kind: logicrpc.KindJob, RPCAddr: "x:1"}}
	for i := range 4 {
		nodes = append(nodes, logicrpc.NodeInfo{ID: fmt.Sprint("c", i), Kind: logicrpc.KindComet})
	}
	for _, node := range nodes {
		if _, err := l.Report(ctx, &logicrpc.ReportReq{Node: node}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		s := Session{Mid: int64(i), Key: fmt.Sprint("k", i), Server: fmt.Sprint("c", i%4), ConnID: uint64(i)}
		if err := l.sessions.Put(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	return l
}

// BenchmarkStorePushKeys compares a push to 5 keys on 4 comets through
// the HTTP handler with the in-memory store and with the Redis store, in
// one run. "serial" is one caller (the latency of a push); "parallel"
// runs 16 callers per CPU, as a loaded push API does, so that Redis
// round trips overlap (the throughput).
func BenchmarkStorePushKeys(b *testing.B) {
	const target = "/goim/push/keys?operation=1000&keys=k1&keys=k2&keys=k3&keys=k4&keys=k5"
	stores := []struct {
		name string
		mod  func(b *testing.B) func(*Config)
	}{
		{"memory", func(*testing.B) func(*Config) { return func(*Config) {} }},
		{"redis", func(b *testing.B) func(*Config) {
			url := redisForTest(b)
			return func(c *Config) { c.Redis = url }
		}},
	}
	for _, st := range stores {
		b.Run(st.name+"/serial", func(b *testing.B) {
			h := storeBenchEnv(b, 1000, st.mod(b)).Handler()
			p := newPushRequest(target, make([]byte, 256))
			w := &discardWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				p.reset()
				h.ServeHTTP(w, p.req)
			}
			if w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		})
		b.Run(st.name+"/parallel", func(b *testing.B) {
			l := storeBenchEnv(b, 1000, st.mod(b))
			h := l.Handler()
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				p := newPushRequest(target, make([]byte, 256))
				w := &discardWriter{h: make(http.Header)}
				for pb.Next() {
					p.reset()
					h.ServeHTTP(w, p.req)
				}
			})
			b.StopTimer()
			if st := l.Stats(); st.PushFailures.Total() != 0 || st.Pushes.Keys == 0 {
				b.Fatalf("pushes %+v, failures %+v", st.Pushes, st.PushFailures)
			}
		})
	}
}
