package bench

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestLoadClosedLoopCount(t *testing.T) {
	var mu sync.Mutex
	seen := map[uint32]bool{}
	workers := map[int]bool{}
	l := NewLoad(LoadConfig{Count: 100, Concurrency: 4})
	st := l.Run(context.Background(), func(w int, seq uint32) error {
		mu.Lock()
		defer mu.Unlock()
		seen[seq], workers[w] = true, true
		return nil
	})
	if st.Sent != 100 || st.OK() != 100 || len(seen) != 100 || st.FirstErr != nil {
		t.Fatalf("sent %d ok %d distinct %d err %v", st.Sent, st.OK(), len(seen), st.FirstErr)
	}
	for w := range workers {
		if w < 0 || w >= 4 {
			t.Errorf("caller index %d", w)
		}
	}
}

func TestLoadOpenLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var times []time.Duration
		var mu sync.Mutex
		start := time.Now()
		l := NewLoad(LoadConfig{Rate: 100, Duration: 200 * time.Millisecond, Concurrency: 2})
		st := l.Run(context.Background(), func(int, uint32) error {
			mu.Lock()
			times = append(times, time.Since(start))
			mu.Unlock()
			return nil
		})
		if st.Sent != 20 || st.Late != 0 {
			t.Fatalf("sent %d late %d, want 20 on time", st.Sent, st.Late)
		}
		for i, d := range times {
			if want := time.Duration(i) * 10 * time.Millisecond; d != want {
				t.Errorf("send %d at %v, want %v", i, d, want)
			}
		}
	})
}

// TestLoadLate checks that slow answers do not lower the offered rate:
// the sends behind them go out late, and are counted.
func TestLoadLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLoad(LoadConfig{Rate: 100, Count: 10, Concurrency: 1, LateBound: time.Millisecond})
		st := l.Run(context.Background(), func(int, uint32) error {
			time.Sleep(20 * time.Millisecond) // each answer takes two periods
			return nil
		})
		if st.Sent != 10 || st.Late != 9 {
			t.Fatalf("sent %d late %d, want 10 sent, 9 late", st.Sent, st.Late)
		}
		if want := 90 * time.Millisecond; st.MaxLate != want {
			t.Errorf("MaxLate %v, want %v", st.MaxLate, want)
		}
	})
}

func TestLoadErrorsAndCancel(t *testing.T) {
	errBoom := errors.New("boom")
	l := NewLoad(LoadConfig{Count: 10, Concurrency: 1})
	st := l.Run(context.Background(), func(_ int, seq uint32) error {
		if seq%2 == 1 {
			return errBoom
		}
		return nil
	})
	if st.Failed != 5 || st.OK() != 5 || !errors.Is(st.FirstErr, errBoom) {
		t.Errorf("failed %d ok %d err %v", st.Failed, st.OK(), st.FirstErr)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	st = NewLoad(LoadConfig{Concurrency: 3, Duration: time.Hour}).Run(ctx, func(int, uint32) error {
		if n.Add(1) == 50 {
			cancel()
		}
		return nil
	})
	// Callers that passed their context check before the cancel still
	// send, and a caller descheduled between its 50th send and cancel()
	// lets the others go on: the count past 50 has no fixed bound. What
	// must hold: Run returned (long before Duration), and every send was
	// counted exactly once.
	if got := uint64(n.Load()); st.Sent < 50 || st.Sent != got {
		t.Errorf("sent %d, fn ran %d times, after cancel at 50", st.Sent, got)
	}
}

func TestLoadDurationClosedLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := NewLoad(LoadConfig{Duration: 100 * time.Millisecond, Concurrency: 2}).Run(context.Background(), func(int, uint32) error {
			time.Sleep(10 * time.Millisecond)
			return nil
		})
		if st.Sent != 20 || st.Elapsed != 100*time.Millisecond {
			t.Errorf("sent %d in %v, want 20 in 100ms", st.Sent, st.Elapsed)
		}
	})
}
