package timer

import (
	"math"
	"sync"
	"time"
)

// never is the armed deadline when the runtime timer is not set for any
// entry.
const never = math.MaxInt64

// Timer runs callbacks at deadlines, keeping them in a heap served by one
// goroutine and one runtime timer. It is safe for concurrent use. Create it
// with New and release it with Stop.
//
// Lock order: Timer.mu is a leaf lock; it is never held while a callback runs
// or while calling out of the package, so callbacks may take any lock and may
// call Add, Reset, Del and Len on the same Timer.
type Timer struct {
	start time.Time     // origin of deadlines (monotonic clock)
	rt    *time.Timer   // the one runtime timer; Reset and Stop only with mu held
	stopc chan struct{} // closed by the first Stop
	done  chan struct{} // closed when the goroutine exited

	// mu guards every field below and every field of every entry owned by
	// this Timer (those in heap, on the free list, and those referenced by
	// outstanding handles).
	mu      sync.Mutex
	heap    []slot // min-heap of pending entries, ordered by less
	free    *entry // free list of released entries, linked by entry.next
	seq     uint64 // last slot.seq handed out
	armed   int64  // deadline rt is armed for; never when not armed
	stopped bool   // Stop was called
}

// Handle names one entry added to a Timer. It is a small value to keep per
// connection. The zero Handle names no entry. Once the entry fired or was
// deleted (or the Timer was stopped) the handle is stale: Reset and Del with
// it return false and never touch the entry even after it was reused for
// another Add. Reset and Del on another Timer than the one that returned the
// handle also return false.
type Handle struct {
	e   *entry
	gen uint64
}

// New returns a running Timer whose free list holds capacity entries, so the
// first capacity pending entries need no allocation; capacity <= 0 means no
// preallocation. The free list grows as needed. New starts one goroutine,
// which Stop ends.
func New(capacity int) *Timer {
	t := &Timer{
		start: time.Now(),
		rt:    time.NewTimer(time.Hour),
		stopc: make(chan struct{}),
		done:  make(chan struct{}),
		armed: never,
	}
	t.rt.Stop()
	if capacity > 0 {
		t.heap = make([]slot, 0, capacity)
		t.growLocked(capacity) // not yet shared: no lock needed
	}
	go t.run()
	return t
}

// Add schedules fn to run on the Timer's goroutine once d has elapsed
// (d <= 0 means as soon as possible) and returns a handle to the entry.
// After Stop, Add does nothing and returns the zero Handle. fn must not be
// nil; see the package comment for what fn may do.
func (t *Timer) Add(d time.Duration, fn func()) Handle {
	if fn == nil {
		panic("timer: Add with nil func")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return Handle{}
	}
	now := t.now()
	e := t.allocLocked()
	e.fn = fn
	when := deadline(now, d)
	t.pushLocked(slot{when: when, seq: t.nextSeqLocked(), e: e})
	if when < t.armed {
		t.armLocked(when, now)
	}
	return Handle{e: e, gen: e.gen}
}

// Reset moves the entry named by h to fire once d has elapsed from now,
// keeping its callback. Moving a deadline later costs one heap fix and never
// touches the runtime timer. Reset returns false, and does nothing, when h is
// stale: the entry already fired (or its callback is running), was deleted,
// or the Timer was stopped.
func (t *Timer) Reset(h Handle, d time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.lookupLocked(h)
	if e == nil {
		return false
	}
	now := t.now()
	when := deadline(now, d)
	s := &t.heap[e.index]
	s.when, s.seq = when, t.nextSeqLocked()
	t.fixLocked(e.index)
	if when < t.armed {
		t.armLocked(when, now)
	}
	return true
}

// Del removes the entry named by h so that its callback never runs. It
// returns false, and does nothing, when h is stale: the entry already fired
// (or its callback is running), was deleted, or the Timer was stopped.
func (t *Timer) Del(h Handle) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.lookupLocked(h)
	if e == nil {
		return false
	}
	t.releaseLocked(t.removeLocked(e.index))
	return true
}

// Len returns the number of pending entries: added, not yet fired and not
// deleted. It is 0 after Stop.
func (t *Timer) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.heap)
}

// Stop stops the Timer: pending entries never fire, their handles become
// stale, and Add, Reset and Del become no-ops. Stop waits for a running
// callback to return and for the goroutine to exit, so no callback runs after
// Stop returns; therefore it must not be called from a callback of the same
// Timer (it would deadlock). Calling Stop again is a no-op.
func (t *Timer) Stop() {
	t.mu.Lock()
	first := !t.stopped
	if first {
		t.stopped = true
		t.rt.Stop()
		for _, s := range t.heap {
			e := s.e
			e.gen++
			e.fn = nil
			e.index = -1
		}
		t.heap = nil
		t.free = nil
	}
	t.mu.Unlock()
	if first {
		close(t.stopc)
	}
	<-t.done
}

// lookupLocked returns the pending entry named by h, or nil if h is stale
// or from another Timer. t.mu must be held.
func (t *Timer) lookupLocked(h Handle) *entry {
	e := h.e
	if e == nil || e.owner != t || t.stopped || e.gen != h.gen || e.index < 0 {
		return nil
	}
	return e
}

// armLocked sets the runtime timer to fire at deadline when, given the
// current time now. t.mu must be held.
func (t *Timer) armLocked(when, now int64) {
	t.rt.Reset(time.Duration(when - now))
	t.armed = when
}

// nextSeqLocked returns a new tie-breaking sequence number. t.mu must be
// held.
func (t *Timer) nextSeqLocked() uint64 {
	t.seq++
	return t.seq
}

// now returns the current time in nanoseconds since t.start.
func (t *Timer) now() int64 {
	return int64(time.Since(t.start))
}

// deadline returns now+d, clamping d <= 0 to now and overflow to never.
func deadline(now int64, d time.Duration) int64 {
	if d <= 0 {
		return now
	}
	if int64(d) > never-now {
		return never
	}
	return now + int64(d)
}
