package timer

// run is the Timer's goroutine: it waits for the runtime timer and fires the
// due entries until Stop.
func (t *Timer) run() {
	defer close(t.done)
	for {
		select {
		case <-t.stopc:
			return
		case <-t.rt.C:
			if !t.expire() {
				return
			}
		}
	}
}

// expire runs the callback of every due entry, one at a time and without t.mu
// held, until the earliest deadline is in the future, then re-arms the
// runtime timer for it. It reports false once the Timer is stopped.
//
// The runtime timer has just fired, so it is not armed: while callbacks run,
// Add and Reset arm it for any earlier deadline they bring.
func (t *Timer) expire() bool {
	t.mu.Lock()
	t.armed = never
	now := t.now()
	for {
		if t.stopped {
			t.mu.Unlock()
			return false
		}
		if len(t.heap) == 0 {
			break
		}
		if t.heap[0].when > now {
			// Callbacks take time: look at the clock again before
			// going back to sleep.
			if now = t.now(); t.heap[0].when > now {
				break
			}
		}
		e := t.removeLocked(0)
		fn := e.fn
		t.releaseLocked(e) // its handle is stale before fn runs
		t.mu.Unlock()
		fn()
		t.mu.Lock()
	}
	if len(t.heap) > 0 && t.heap[0].when < t.armed {
		t.armLocked(t.heap[0].when, now)
	}
	t.mu.Unlock()
	return true
}
