package timer

// Sharded is a fixed, power-of-two set of Timers, so that many connections
// spread their deadlines, lock traffic and callback work over several
// goroutines. It is safe for concurrent use. A Handle from a shard works
// only with that shard (on the others, Reset and Del return false).
type Sharded struct {
	shards []*Timer
	mask   uint64
}

// NewSharded returns shards running Timers, each made by New(capacityPerShard).
// shards is rounded up to a power of two; shards <= 0 means 1.
func NewSharded(shards, capacityPerShard int) *Sharded {
	n := 1
	for n < shards {
		n <<= 1
	}
	s := &Sharded{shards: make([]*Timer, n), mask: uint64(n - 1)}
	for i := range s.shards {
		s.shards[i] = New(capacityPerShard)
	}
	return s
}

// Shard returns the Timer for i (typically a connection id or key hash):
// shard i&(Shards()-1). The same i always gives the same Timer.
func (s *Sharded) Shard(i uint64) *Timer {
	return s.shards[i&s.mask]
}

// Shards returns the number of shards, a power of two.
func (s *Sharded) Shards() int {
	return len(s.shards)
}

// Len returns the number of pending entries over all shards.
func (s *Sharded) Len() int {
	n := 0
	for _, t := range s.shards {
		n += t.Len()
	}
	return n
}

// Stop stops every shard as Timer.Stop does, and returns once all their
// goroutines exited. It must not be called from a callback.
func (s *Sharded) Stop() {
	for _, t := range s.shards {
		t.Stop()
	}
}
