package timer

import (
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestCallbackUsesTimer(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, tm *Timer, r *recorder)
		want  []firing
	}{
		{
			name: "adds an entry",
			setup: func(t *testing.T, tm *Timer, r *recorder) {
				tm.Add(10*ms, func() {
					r.fn("a")()
					tm.Add(5*ms, r.fn("added by a"))
				})
			},
			want: []firing{{"a", 10 * ms}, {"added by a", 15 * ms}},
		},
		{
			name: "adds an entry that is due at once",
			setup: func(t *testing.T, tm *Timer, r *recorder) {
				tm.Add(10*ms, func() {
					r.fn("a")()
					tm.Add(0, r.fn("added by a"))
				})
				tm.Add(20*ms, r.fn("b"))
			},
			want: []firing{{"a", 10 * ms}, {"added by a", 10 * ms}, {"b", 20 * ms}},
		},
		{
			name: "deletes a pending entry",
			setup: func(t *testing.T, tm *Timer, r *recorder) {
				c := tm.Add(30*ms, r.fn("c"))
				tm.Add(10*ms, func() {
					r.fn("a")()
					if !tm.Del(c) {
						t.Error("Del from a callback = false")
					}
				})
				tm.Add(20*ms, r.fn("b"))
			},
			want: []firing{{"a", 10 * ms}, {"b", 20 * ms}},
		},
		{
			name: "deletes an entry due at the same time",
			setup: func(t *testing.T, tm *Timer, r *recorder) {
				b := tm.Add(10*ms, r.fn("b"))
				tm.Add(10*ms, func() {
					r.fn("a")()
					tm.Del(b)
				})
				tm.Reset(b, 10*ms) // b now fires after a
			},
			want: []firing{{"a", 10 * ms}},
		},
		{
			name: "resets another entry earlier",
			setup: func(t *testing.T, tm *Timer, r *recorder) {
				c := tm.Add(30*ms, r.fn("c"))
				tm.Add(10*ms, func() {
					r.fn("a")()
					tm.Reset(c, ms)
				})
				tm.Add(20*ms, r.fn("b"))
			},
			want: []firing{{"a", 10 * ms}, {"c", 11 * ms}, {"b", 20 * ms}},
		},
		{
			name: "own handle is stale, re-adds itself",
			setup: func(t *testing.T, tm *Timer, r *recorder) {
				// mu guards h: the callback reads the handle that Add
				// returned, which the caller stores after Add.
				var mu sync.Mutex
				var h Handle
				n := 0 // only touched by callbacks
				var tick func()
				tick = func() {
					n++
					r.fn(fmt.Sprint("tick", n))()
					mu.Lock()
					defer mu.Unlock()
					if tm.Reset(h, ms) || tm.Del(h) {
						t.Error("own handle is not stale inside its callback")
					}
					if n < 3 {
						h = tm.Add(10*ms, tick)
					}
				}
				mu.Lock()
				h = tm.Add(10*ms, tick)
				mu.Unlock()
			},
			want: []firing{{"tick1", 10 * ms}, {"tick2", 20 * ms}, {"tick3", 30 * ms}},
		},
		{
			name: "reads Len",
			setup: func(t *testing.T, tm *Timer, r *recorder) {
				tm.Add(10*ms, func() { r.fn(fmt.Sprint("len", tm.Len()))() })
				tm.Add(20*ms, r.fn("b"))
			},
			want: []firing{{"len1", 10 * ms}, {"b", 20 * ms}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tm := New(0)
				defer tm.Stop()
				r := newRecorder()
				tc.setup(t, tm, r)
				time.Sleep(time.Hour)
				synctest.Wait()
				checkFirings(t, r.get(), tc.want)
			})
		})
	}
}

// TestArming checks that the runtime timer is re-armed only for a deadline
// earlier than the one it is armed for.
func TestArming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tm := New(0)
		defer tm.Stop()
		armed := func() time.Duration {
			tm.mu.Lock()
			defer tm.mu.Unlock()
			return time.Duration(tm.armed)
		}
		if got := armed(); got != never {
			t.Fatalf("armed = %v on a new Timer", got)
		}
		a := tm.Add(20*ms, func() {})
		if got := armed(); got != 20*ms {
			t.Fatalf("armed = %v after Add(20ms), want 20ms", got)
		}
		tm.Add(30*ms, func() {})
		if got := armed(); got != 20*ms {
			t.Fatalf("armed = %v after a later Add, want 20ms", got)
		}
		tm.Reset(a, 40*ms)
		if got := armed(); got != 20*ms {
			t.Fatalf("armed = %v after Reset later, want 20ms (no re-arm)", got)
		}
		tm.Reset(a, 10*ms)
		if got := armed(); got != 10*ms {
			t.Fatalf("armed = %v after Reset earlier, want 10ms", got)
		}
		tm.Del(a)
		if got := armed(); got != 10*ms {
			t.Fatalf("armed = %v after Del, want 10ms (no re-arm)", got)
		}
		time.Sleep(15 * ms) // the spurious wake-up re-arms for the earliest
		synctest.Wait()
		if got := armed(); got != 30*ms {
			t.Fatalf("armed = %v after a wake-up with nothing due, want 30ms", got)
		}
		checkHeap(t, tm)
	})
}
