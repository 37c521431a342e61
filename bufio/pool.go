package bufio

import (
	"slices"
	"sync"
	"sync/atomic"
)

// defaultClasses are the buffer sizes of a Pool whose PoolConfig.Classes is
// empty.
var defaultClasses = [...]int{512, 1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10}

// PoolConfig configures a Pool.
type PoolConfig struct {
	// Classes are the buffer sizes in bytes; Get returns a buffer of the
	// smallest class that fits the request. Order does not matter;
	// non-positive and duplicate sizes are ignored. Empty means 512, 1K, 2K,
	// 4K, 8K, 16K, 32K and 64K.
	Classes []int
}

// PoolStats are a Pool's counters since NewPool.
type PoolStats struct {
	// Allocs counts buffers Get allocated because no free one was at hand
	// (oversized requests included). It stops growing in steady state.
	Allocs uint64
	// Drops counts buffers Put ignored: oversized or from another pool.
	Drops uint64
}

// Buffer is a fixed-size byte buffer from a Pool. It belongs to whoever got
// it from Pool.Get until they pass it to Pool.Put; after Put neither the
// Buffer nor any slice of its bytes may be touched.
type Buffer struct {
	buf   []byte // the bytes; len == cap == class size
	pool  *Pool  // the pool it came from
	class int    // index into pool.classes; -1 when oversized (not pooled)
	free  bool   // between Put and the next Get; owned by the pool then
}

// Bytes returns the buffer's bytes; len and cap are the buffer's size. The
// contents are whatever the previous user left: Get does not zero them.
func (b *Buffer) Bytes() []byte { return b.buf }

// Pool hands out fixed-size buffers in size classes. Each class keeps its
// free buffers in a sync.Pool of *Buffer, which is sharded per P (one free
// list per processor, stealing from the others when empty) and releases
// idle buffers to the garbage collector over two GC cycles, so an idle
// server does not keep its peak memory. Get and Put do not allocate in
// steady state. A Pool is safe for concurrent use; create it with NewPool.
type Pool struct {
	classes []int       // ascending buffer sizes
	free    []sync.Pool // free *Buffer per class, indexed like classes
	allocs  atomic.Uint64
	drops   atomic.Uint64
}

// NewPool returns a Pool configured by cfg (see PoolConfig for defaults).
func NewPool(cfg PoolConfig) *Pool {
	classes := normalizeClasses(cfg.Classes)
	return &Pool{classes: classes, free: make([]sync.Pool, len(classes))}
}

// normalizeClasses returns the sorted, positive, distinct sizes of classes,
// or the default classes when none is left.
func normalizeClasses(classes []int) []int {
	out := make([]int, 0, len(classes))
	for _, c := range classes {
		if c > 0 {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		out = append(out, defaultClasses[:]...)
	}
	return out
}

// Classes returns the pool's buffer sizes in ascending order.
func (p *Pool) Classes() []int { return slices.Clone(p.classes) }

// classOf returns the index of the smallest class holding size bytes, or
// -1 when size exceeds every class.
func (p *Pool) classOf(size int) int {
	for i, c := range p.classes {
		if size <= c {
			return i
		}
	}
	return -1
}

// Get returns a buffer of the smallest class of at least size bytes (the
// smallest class for size <= 0), reused or newly allocated. A size larger
// than every class gets a new, unpooled buffer of exactly size bytes, which
// Put ignores. The caller owns the buffer until it calls Put.
func (p *Pool) Get(size int) *Buffer {
	c := p.classOf(size)
	if c < 0 {
		p.allocs.Add(1)
		return &Buffer{buf: make([]byte, size), pool: p, class: -1}
	}
	if v := p.free[c].Get(); v != nil {
		b := v.(*Buffer)
		b.free = false
		return b
	}
	p.allocs.Add(1)
	return &Buffer{buf: make([]byte, p.classes[c]), pool: p, class: c}
}

// Put gives b back to the pool. Do not touch b, or any slice of its bytes,
// after Put: another caller may get it at once. Put(nil) does nothing; a
// buffer that is oversized or from another pool is left to the garbage
// collector. Putting a buffer that is already free panics, as that would
// hand it to two owners (best effort: racing Puts are caught by the race
// detector instead).
func (p *Pool) Put(b *Buffer) {
	if b == nil {
		return
	}
	if b.pool != p || b.class < 0 {
		p.drops.Add(1)
		return
	}
	if b.free {
		panic("bufio: Buffer put twice")
	}
	b.free = true
	p.free[b.class].Put(b)
}

// Stats returns the pool's counters.
func (p *Pool) Stats() PoolStats {
	return PoolStats{Allocs: p.allocs.Load(), Drops: p.drops.Load()}
}
