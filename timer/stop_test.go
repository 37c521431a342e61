package timer

import (
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/goimx/goim/internal/leaktest"
	"github.com/goimx/goim/internal/testwait"
)

func TestStopWithPendingEntries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tm := New(4)
		r := newRecorder()
		a := tm.Add(0, r.fn("a"))
		time.Sleep(ms)
		synctest.Wait()
		b := tm.Add(10*ms, r.fn("b"))
		c := tm.Add(time.Hour, r.fn("c"))
		tm.Stop()
		if got := tm.Len(); got != 0 {
			t.Errorf("Len after Stop = %d, want 0", got)
		}
		for name, h := range map[string]Handle{"fired": a, "pending": b, "far": c} {
			if tm.Reset(h, ms) {
				t.Errorf("Reset(%s) after Stop = true", name)
			}
			if tm.Del(h) {
				t.Errorf("Del(%s) after Stop = true", name)
			}
		}
		if h := tm.Add(ms, r.fn("late")); h != (Handle{}) {
			t.Errorf("Add after Stop = %v, want the zero Handle", h)
		}
		tm.Stop() // second Stop is a no-op
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		checkFirings(t, r.get(), []firing{{"a", 0}})
	})
}

func TestStopEndsGoroutine(t *testing.T) {
	// The goroutine of an earlier test's Timer ends a moment after its
	// Stop returned: start from none.
	waitTimerGoroutines(t, 0)
	before := 0
	tm := New(0)
	tm.Add(time.Hour, func() {})
	if got := len(leaktest.Stacks(runFrame)); got != before+1 {
		t.Fatalf("%d Timer goroutines after New, want %d", got, before+1)
	}
	tm.Stop()
	waitTimerGoroutines(t, before)
}

// waitTimerGoroutines waits until want Timer goroutines run: Stop returns
// once a goroutine closed its done channel, and the goroutine itself ends
// a moment later.
func waitTimerGoroutines(t *testing.T, want int) {
	t.Helper()
	testwait.ForReason(t, 5*time.Second, fmt.Sprintf("%d Timer goroutines after Stop", want), func() (bool, string) {
		got := len(leaktest.Stacks(runFrame))
		return got == want, fmt.Sprintf("%d run", got)
	})
}

func TestStopWaitsForRunningCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tm := New(0)
		r := newRecorder()
		release := make(chan struct{})
		tm.Add(ms, func() { <-release })
		tm.Add(ms, r.fn("after the blocked one"))
		time.Sleep(ms)
		synctest.Wait() // the first callback is blocked

		var stopped atomic.Bool
		go func() {
			tm.Stop()
			stopped.Store(true)
		}()
		synctest.Wait()
		if stopped.Load() {
			t.Fatal("Stop returned while a callback was running")
		}
		close(release)
		synctest.Wait()
		if !stopped.Load() {
			t.Fatal("Stop did not return after the callback returned")
		}
		checkFirings(t, r.get(), nil)
	})
}

func TestStopConcurrentWithUse(t *testing.T) {
	tm := New(0)
	var stopped atomic.Bool
	var lateCalls atomic.Int64
	fn := func() {
		if stopped.Load() {
			lateCalls.Add(1)
		}
	}
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; !stopped.Load(); i++ {
				h := tm.Add(time.Duration(i%50)*time.Microsecond, fn)
				if g%2 == 0 {
					tm.Reset(h, time.Duration(i%7)*time.Microsecond)
				} else {
					tm.Del(h)
				}
			}
		}()
	}
	time.Sleep(20 * ms) // let the workers run; nothing is asserted on timing
	tm.Stop()
	stopped.Store(true)
	for range 4 {
		<-done
	}
	if n := lateCalls.Load(); n != 0 {
		t.Errorf("%d callbacks ran after Stop returned", n)
	}
	if tm.Len() != 0 {
		t.Errorf("Len after Stop = %d", tm.Len())
	}
}

func TestShardedStop(t *testing.T) {
	before := len(leaktest.Stacks(runFrame))
	s := NewSharded(4, 8)
	s.Shard(1).Add(time.Hour, func() {})
	s.Stop()
	waitTimerGoroutines(t, before)
	if got := s.Len(); got != 0 {
		t.Errorf("Len after Stop = %d", got)
	}
	s.Stop() // second Stop is a no-op
}
