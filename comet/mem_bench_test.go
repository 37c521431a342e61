package comet

import (
	"fmt"
	"testing"

	"github.com/goimx/goim/internal/testwait"
)

// BenchmarkIdleConnMemory measures the memory an idle authenticated
// connection costs the comet process: N connections are opened by child
// processes (so the client sockets do not count against this process's
// open-file limit or memory) and the growth of RSS, heap objects and
// goroutine stacks after a full collection is divided by N. Run it with
// -benchtime=1x; it is skipped with -short.
//
// Sub-benchmarks in one process flatter the later ones (they reuse memory
// the runtime keeps after the earlier ones: poll descriptors, stack
// cache), so for exact figures run each size in its own process:
//
//	go test -c -o /tmp/comet.test ./comet
//	for b in tcp-10000 ws-10000 tcp-19900 ws-19900; do
//		/tmp/comet.test -test.run '^$' -test.bench "IdleConnMemory/$b\$" -test.benchtime=1x
//	done
func BenchmarkIdleConnMemory(b *testing.B) {
	if testing.Short() {
		b.Skip("opens thousands of connections")
	}
	for _, n := range []int{10000, 19900} {
		for _, ws := range []bool{false, true} {
			name := "tcp"
			if ws {
				name = "ws"
			}
			b.Run(fmt.Sprintf("%s-%d", name, n), func(b *testing.B) { benchIdle(b, ws, n) })
		}
	}
}

func benchIdle(b *testing.B, ws bool, n int) {
	s := startServer(b, withoutLimits(Config{}), &fakeLogic{stateless: true})
	addr := s.tcp
	if ws {
		addr = s.ws
	}
	before := readMem(true)
	for b.Loop() {
		cp := spawnClients(b, ws, addr, n)
		testwait.For(b, waitTimeout, "connections", func() bool { return s.cm.Stats().Conns == n })
		after := readMem(false)
		freed := readMem(true)
		per := func(a, z uint64) float64 { return (float64(z) - float64(a)) / float64(n) / 1024 }
		b.ReportMetric(per(before.rss, after.rss), "KB-rss/conn")
		b.ReportMetric(per(before.rss, freed.rss), "KB-rss-freed/conn")
		b.ReportMetric(per(before.heap, after.heap), "KB-heap/conn")
		b.ReportMetric(per(before.stacks, after.stacks), "KB-stacks/conn")
		b.ReportMetric(float64(startingStack()), "B-start-stack")
		cp.stop()
		testwait.For(b, waitTimeout, "connections to close", func() bool { return s.cm.Stats().Conns == 0 })
	}
}
