package timer

import (
	"sync"
	"testing"
	"time"
)

// population is the number of live entries kept in a Timer (or live runtime
// timers) while a benchmark runs, like the connections of one comet shard
// group.
const population = 10_000

// far is a deadline that never comes during a benchmark.
const far = time.Hour

// newPopulated returns a Timer holding population entries that never fire
// during the benchmark, with their handles.
func newPopulated(b *testing.B) (*Timer, []Handle) {
	tm := New(population + 64)
	b.Cleanup(tm.Stop)
	hs := make([]Handle, population)
	for i := range hs {
		hs[i] = tm.Add(far+time.Duration(i)*time.Millisecond, func() {})
	}
	return tm, hs
}

// newRuntimePopulated returns population runtime timers that never fire
// during the benchmark.
func newRuntimePopulated(b *testing.B) []*time.Timer {
	ts := make([]*time.Timer, population)
	for i := range ts {
		ts[i] = time.AfterFunc(far+time.Duration(i)*time.Millisecond, func() {})
	}
	b.Cleanup(func() {
		for _, rt := range ts {
			rt.Stop()
		}
	})
	return ts
}

// BenchmarkAddDel adds and deletes one entry while population entries are
// live: a connection that finishes its handshake.
func BenchmarkAddDel(b *testing.B) {
	fn := func() {}
	b.Run("heap", func(b *testing.B) {
		tm, _ := newPopulated(b)
		b.ReportAllocs()
		for b.Loop() {
			tm.Del(tm.Add(far, fn))
		}
	})
	b.Run("runtime", func(b *testing.B) {
		newRuntimePopulated(b)
		b.ReportAllocs()
		for b.Loop() {
			time.AfterFunc(far, fn).Stop()
		}
	})
}

// BenchmarkReset pushes back the deadline of one of population live entries
// in turn: a heartbeat.
func BenchmarkReset(b *testing.B) {
	b.Run("heap", func(b *testing.B) {
		tm, hs := newPopulated(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			tm.Reset(hs[i], far)
			i = (i + 1) % population
		}
	})
	b.Run("runtime", func(b *testing.B) {
		ts := newRuntimePopulated(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			ts[i].Reset(far)
			i = (i + 1) % population
		}
	})
}

// BenchmarkExpire adds population entries that are due at once and waits
// until all of them fired; one op is the whole batch.
func BenchmarkExpire(b *testing.B) {
	var wg sync.WaitGroup
	done := wg.Done
	b.Run("heap", func(b *testing.B) {
		tm := New(population)
		defer tm.Stop()
		b.ReportAllocs()
		for b.Loop() {
			wg.Add(population)
			for range population {
				tm.Add(0, done)
			}
			wg.Wait()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*population), "ns/entry")
	})
	b.Run("runtime", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			wg.Add(population)
			for range population {
				time.AfterFunc(0, done)
			}
			wg.Wait()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*population), "ns/entry")
	})
}

// BenchmarkAddDelParallel adds and deletes entries from all CPUs on a
// Sharded timer versus runtime timers.
func BenchmarkAddDelParallel(b *testing.B) {
	fn := func() {}
	b.Run("heap", func(b *testing.B) {
		s := NewSharded(8, population/8+64)
		defer s.Stop()
		b.ReportAllocs()
		var next uint64
		var mu sync.Mutex
		b.RunParallel(func(pb *testing.PB) {
			mu.Lock()
			tm := s.Shard(next)
			next++
			mu.Unlock()
			for pb.Next() {
				tm.Del(tm.Add(far, fn))
			}
		})
	})
	b.Run("runtime", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				time.AfterFunc(far, fn).Stop()
			}
		})
	})
}
