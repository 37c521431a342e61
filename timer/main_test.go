package timer

import (
	"sync"
	"testing"
	"time"

	"github.com/goimx/goim/internal/leaktest"
)

// runFrame marks a Timer goroutine in a stack dump, started or not yet.
const runFrame = "created by github.com/goimx/goim/timer.New "

// TestMain fails the run when Timer goroutines outlive the tests.
func TestMain(m *testing.M) {
	leaktest.Main(m, 5*time.Second, runFrame)
}

// firing is one callback run: which entry, and when since the recorder
// started.
type firing struct {
	name string
	at   time.Duration
}

// recorder records callback runs.
type recorder struct {
	start time.Time

	mu    sync.Mutex // guards fired
	fired []firing
}

func newRecorder() *recorder {
	return &recorder{start: time.Now()}
}

// fn returns a callback recording name.
func (r *recorder) fn(name string) func() {
	return func() {
		r.mu.Lock()
		r.fired = append(r.fired, firing{name: name, at: time.Since(r.start)})
		r.mu.Unlock()
	}
}

// get returns a copy of the firings so far.
func (r *recorder) get() []firing {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]firing(nil), r.fired...)
}

// checkFirings fails the test unless got equals want.
func checkFirings(t *testing.T, got, want []firing) {
	t.Helper()
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("firing %d is %v, want %v (fired %d, want %d)", i, got[i], want[i], len(got), len(want))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
}

// checkHeap fails the test unless tm's heap is consistent.
func checkHeap(t *testing.T, tm *Timer) {
	t.Helper()
	tm.mu.Lock()
	defer tm.mu.Unlock()
	for i := range tm.heap {
		s := &tm.heap[i]
		if s.e.index != i {
			t.Fatalf("heap[%d].e.index = %d", i, s.e.index)
		}
		if s.e.fn == nil {
			t.Fatalf("heap[%d] has no callback", i)
		}
		if i > 0 && less(s, &tm.heap[(i-1)/arity]) {
			t.Fatalf("heap[%d] fires before its parent", i)
		}
	}
	if len(tm.heap) > 0 && tm.heap[0].when < tm.armed {
		t.Fatalf("earliest deadline %d before armed %d", tm.heap[0].when, tm.armed)
	}
}
