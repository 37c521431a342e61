package timer

// entry is one pending callback. Entries are owned by one Timer; owner never
// changes, and every other field is guarded by the owner's mu.
type entry struct {
	owner *Timer // the Timer whose free list made the entry; read without lock
	fn    func() // callback; nil while the entry is on the free list
	index int    // position in Timer.heap, or -1 when not in the heap
	gen   uint64 // bumped each time the entry is released, staling its handles
	next  *entry // free list link; nil while the entry is in the heap
}

// slot is one element of a Timer's heap: an entry and its deadline, kept in
// the heap's own array so that ordering it never reads the entries.
type slot struct {
	when int64  // deadline in nanoseconds since Timer.start
	seq  uint64 // tie-breaker: slots with equal deadlines fire in seq order
	e    *entry
}

// arity is the number of children of a heap node. A 4-ary heap is shallower
// than a binary one and compares siblings that share cache lines.
const arity = 4

// growChunk is how many entries the free list grows by when it runs empty.
const growChunk = 64

// less reports whether a fires before b.
func less(a, b *slot) bool {
	if a.when != b.when {
		return a.when < b.when
	}
	return a.seq < b.seq
}

// allocLocked takes an entry from the free list, growing it by a chunk of
// entries when empty. t.mu must be held.
func (t *Timer) allocLocked() *entry {
	if t.free == nil {
		t.growLocked(growChunk)
	}
	e := t.free
	t.free = e.next
	e.next = nil
	return e
}

// growLocked adds n new entries to the free list in one allocation. t.mu
// must be held.
func (t *Timer) growLocked(n int) {
	chunk := make([]entry, n)
	for i := range chunk {
		chunk[i].owner = t
		chunk[i].index = -1
		chunk[i].next = t.free
		t.free = &chunk[i]
	}
}

// releaseLocked stales every handle to e and returns it to the free list.
// e must not be in the heap. t.mu must be held.
func (t *Timer) releaseLocked(e *entry) {
	e.gen++
	e.fn = nil
	e.index = -1
	e.next = t.free
	t.free = e
}

// pushLocked inserts s into the heap. t.mu must be held.
func (t *Timer) pushLocked(s slot) {
	s.e.index = len(t.heap)
	t.heap = append(t.heap, s)
	t.upLocked(s.e.index)
}

// removeLocked takes the entry at heap index i out of the heap and returns
// it. t.mu must be held.
func (t *Timer) removeLocked(i int) *entry {
	e := t.heap[i].e
	last := len(t.heap) - 1
	if i != last {
		t.heap[i] = t.heap[last]
		t.heap[i].e.index = i
	}
	t.heap[last] = slot{}
	t.heap = t.heap[:last]
	if i != last {
		t.fixLocked(i)
	}
	e.index = -1
	return e
}

// fixLocked restores heap order after the slot at index i changed its
// deadline. t.mu must be held.
func (t *Timer) fixLocked(i int) {
	if !t.downLocked(i) {
		t.upLocked(i)
	}
}

// upLocked moves the slot at index i towards the root while it fires before
// its parent. t.mu must be held.
func (t *Timer) upLocked(i int) {
	h := t.heap
	s := h[i]
	for i > 0 {
		parent := (i - 1) / arity
		if !less(&s, &h[parent]) {
			break
		}
		h[i] = h[parent]
		h[i].e.index = i
		i = parent
	}
	h[i] = s
	s.e.index = i
}

// downLocked moves the slot at index i towards the leaves while a child fires
// before it, and reports whether it moved. t.mu must be held.
func (t *Timer) downLocked(i int) bool {
	h := t.heap
	n := len(h)
	s := h[i]
	start := i
	for {
		first := arity*i + 1
		if first >= n {
			break
		}
		child := first
		for c := first + 1; c < min(first+arity, n); c++ {
			if less(&h[c], &h[child]) {
				child = c
			}
		}
		if !less(&h[child], &s) {
			break
		}
		h[i] = h[child]
		h[i].e.index = i
		i = child
	}
	if i == start {
		return false
	}
	h[i] = s
	s.e.index = i
	return true
}
