package timer

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/goimx/goim/internal/testwait"
)

// modelEntry is the expected state of one entry in TestAgainstModel.
type modelEntry struct {
	name string
	h    Handle
	when time.Duration // deadline since start
	seq  int           // order of the last add or reset, for ties
	done bool          // fired or deleted
	del  bool          // deleted
}

// TestAgainstModel runs random operations, with time passing, against a
// simple model and checks every result and the final firing order.
func TestAgainstModel(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { runModel(t, seed) })
		})
	}
}

func runModel(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 42))
	tm := New(int(seed) * 8)
	defer tm.Stop()
	r := newRecorder()
	var entries []*modelEntry
	seq := 0
	randDur := func() time.Duration { return time.Duration(1+rng.IntN(200)) * ms }
	for i := range 3000 {
		now := time.Since(r.start)
		for _, e := range entries {
			if !e.done && e.when <= now {
				e.done = true // fired
			}
		}
		switch op := rng.IntN(10); {
		case op < 4 || len(entries) == 0:
			seq++
			e := &modelEntry{name: fmt.Sprint(i), when: now + randDur(), seq: seq}
			e.h = tm.Add(e.when-now, r.fn(e.name))
			entries = append(entries, e)
		case op < 7:
			e := entries[rng.IntN(len(entries))]
			d := randDur()
			if got := tm.Reset(e.h, d); got != !e.done {
				t.Fatalf("op %d: Reset(%s) = %v, want %v", i, e.name, got, !e.done)
			}
			if !e.done {
				seq++
				e.when, e.seq = now+d, seq
			}
		case op < 9:
			e := entries[rng.IntN(len(entries))]
			if got := tm.Del(e.h); got != !e.done {
				t.Fatalf("op %d: Del(%s) = %v, want %v", i, e.name, got, !e.done)
			}
			if !e.done {
				e.done, e.del = true, true
			}
		default:
			time.Sleep(time.Duration(rng.IntN(20)) * ms)
			synctest.Wait()
		}
		checkHeap(t, tm)
	}
	time.Sleep(time.Hour)
	synctest.Wait()
	checkFirings(t, r.get(), modelFirings(entries))
}

// modelFirings returns the firings the model expects: every entry not
// deleted, in deadline order, ties in seq order.
func modelFirings(entries []*modelEntry) []firing {
	var fired []*modelEntry
	for _, e := range entries {
		if !e.del {
			fired = append(fired, e)
		}
	}
	slices.SortFunc(fired, func(a, b *modelEntry) int {
		return cmp.Or(cmp.Compare(a.when, b.when), cmp.Compare(a.seq, b.seq))
	})
	want := make([]firing, len(fired))
	for i, e := range fired {
		want[i] = firing{name: e.name, at: e.when}
	}
	return want
}

// TestConcurrentUse hammers one Timer (and a Sharded) from many goroutines in
// real time; run it with -race. Every entry must fire exactly once unless it
// was deleted.
func TestConcurrentUse(t *testing.T) {
	s := NewSharded(2, 0)
	defer s.Stop()
	const goroutines, perGoroutine = 8, 1000
	var added, deleted, fired, twice atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			tm := s.Shard(uint64(g))
			randDur := func() time.Duration { return time.Duration(rng.IntN(2000)) * time.Microsecond }
			var hs []Handle
			for range perGoroutine {
				var calls atomic.Int32
				hs = append(hs, tm.Add(randDur(), func() {
					if calls.Add(1) > 1 {
						twice.Add(1)
					}
					fired.Add(1)
				}))
				added.Add(1)
				switch rng.IntN(3) {
				case 0:
					if tm.Del(hs[rng.IntN(len(hs))]) {
						deleted.Add(1)
					}
				case 1:
					tm.Reset(hs[rng.IntN(len(hs))], randDur())
				}
				_ = tm.Len()
			}
		}()
	}
	wg.Wait()
	testwait.For(t, 10*time.Second, "every entry fired or deleted", func() bool {
		return s.Len() == 0 && fired.Load()+deleted.Load() == added.Load()
	})
	if n := twice.Load(); n != 0 {
		t.Errorf("%d callbacks ran more than once", n)
	}
}

func TestShardedShards(t *testing.T) {
	tests := []struct{ shards, want int }{
		{-1, 1}, {0, 1}, {1, 1}, {2, 2}, {3, 4}, {8, 8}, {9, 16},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.shards), func(t *testing.T) {
			s := NewSharded(tc.shards, 1)
			defer s.Stop()
			if got := s.Shards(); got != tc.want {
				t.Fatalf("Shards() = %d, want %d", got, tc.want)
			}
			seen := map[*Timer]bool{}
			for i := range uint64(2 * tc.want) {
				if s.Shard(i) != s.Shard(i+uint64(tc.want)) {
					t.Fatalf("Shard(%d) != Shard(%d)", i, i+uint64(tc.want))
				}
				seen[s.Shard(i)] = true
			}
			if len(seen) != tc.want {
				t.Fatalf("%d distinct shards, want %d", len(seen), tc.want)
			}
		})
	}
}
