package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// The histogram's buckets are log-linear: values below 2*histSub nanoseconds
// get one bucket each; above, every power of two is split into histSub
// equal buckets, so a bucket is at most 1/histSub (3.1%) of its values wide.
// Values at or above histMax are counted in the last bucket.
const (
	histSubBits = 5
	histSub     = 1 << histSubBits
	histMaxBits = 40 // 2^40 ns, about 18 minutes
	histBuckets = (histMaxBits - histSubBits + 1) * histSub
	histShards  = 16 // shards of a Histogram; recorders spread over them
)

// histIndex returns the bucket of v nanoseconds.
func histIndex(v uint64) int {
	if v < 2*histSub {
		return int(v)
	}
	if v >= 1<<histMaxBits {
		return histBuckets - 1
	}
	shift := bits.Len64(v) - histSubBits - 1
	return (shift+1)*histSub + int(v>>shift) - histSub
}

// histLow returns the smallest value of bucket i, and its width.
func histLow(i int) (low, width uint64) {
	if i < 2*histSub {
		return uint64(i), 1
	}
	shift := i/histSub - 1
	return uint64(histSub+i%histSub) << shift, 1 << shift
}

// histShard is one shard of counts, on its own cache lines.
type histShard struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64 // number of recorded values
	sum    atomic.Uint64 // total of recorded values in nanoseconds
	_      [48]byte
}

// Histogram counts durations in log-linear buckets. Record is safe for
// concurrent use and allocates nothing; recorders that pass different
// hints mostly touch different shards, so thousands of receivers record
// into one Histogram without contending on one cache line. A Histogram is
// about 150 KB; make it once per measurement, not per message.
type Histogram struct {
	shards [histShards]histShard
	max    atomic.Uint64 // largest recorded value in nanoseconds
}

// NewHistogram returns an empty Histogram.
func NewHistogram() *Histogram { return new(Histogram) }

// Record counts d in the shard picked by hint (any integer, e.g. the index
// of the receiving connection). Negative durations count as zero.
func (h *Histogram) Record(hint int, d time.Duration) {
	v := uint64(max(d, 0))
	s := &h.shards[uint(hint)%histShards]
	s.counts[histIndex(v)].Add(1)
	s.sum.Add(v)
	s.n.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Merge adds the values counted in s (a snapshot of another Histogram,
// or the difference of two) to h. Like Record it is safe for concurrent
// use.
func (h *Histogram) Merge(s *HistSnapshot) {
	sh := &h.shards[0]
	for i, n := range s.Counts {
		if n != 0 {
			sh.counts[i].Add(n)
		}
	}
	sh.sum.Add(uint64(max(s.Sum, 0)))
	sh.n.Add(s.N)
	v := uint64(max(s.Max, 0))
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count returns how many values were recorded, cheaply (it reads one
// counter per shard).
func (h *Histogram) Count() uint64 {
	var n uint64
	for i := range h.shards {
		n += h.shards[i].n.Load()
	}
	return n
}

// Snapshot returns the counts recorded so far. Records that race with it
// may be partly included.
func (h *Histogram) Snapshot() *HistSnapshot {
	s := new(HistSnapshot)
	h.SnapshotInto(s)
	return s
}

// SnapshotInto overwrites s with the counts recorded so far, allocating
// nothing.
func (h *Histogram) SnapshotInto(s *HistSnapshot) {
	*s = HistSnapshot{Max: time.Duration(h.max.Load())}
	for i := range h.shards {
		sh := &h.shards[i]
		for b := range sh.counts {
			n := sh.counts[b].Load()
			s.Counts[b] += n
			s.N += n
		}
		s.Sum += time.Duration(sh.sum.Load())
	}
}

// HistSnapshot is a plain copy of a Histogram's counts.
type HistSnapshot struct {
	Counts [histBuckets]uint64
	N      uint64        // number of values
	Sum    time.Duration // sum of values
	Max    time.Duration // largest value; after Sub, the later snapshot's
}

// Sub returns s minus an earlier snapshot of the same Histogram: the
// values recorded between the two. Max stays s's.
func (s *HistSnapshot) Sub(earlier *HistSnapshot) *HistSnapshot {
	d := *s
	for i := range d.Counts {
		d.Counts[i] -= earlier.Counts[i]
	}
	d.N -= earlier.N
	d.Sum -= earlier.Sum
	return &d
}

// Quantile returns the value below which a fraction q (0..1) of the values
// lie, as the middle of its bucket (within 1.6% of the true value), capped
// at Max (and Max itself beyond 2^40 ns). It returns 0 for an empty
// snapshot.
func (s *HistSnapshot) Quantile(q float64) time.Duration {
	if s.N == 0 {
		return 0
	}
	rank := uint64(q*float64(s.N) + 0.5)
	rank = min(max(rank, 1), s.N)
	var seen uint64
	for i, n := range s.Counts {
		seen += n
		if seen >= rank {
			if i == histBuckets-1 { // open-ended: values beyond histMax
				return s.Max
			}
			low, width := histLow(i)
			v := time.Duration(low + width/2)
			if s.Max > 0 && v > s.Max {
				v = s.Max
			}
			return v
		}
	}
	return s.Max
}

// Mean returns the average value, 0 for an empty snapshot.
func (s *HistSnapshot) Mean() time.Duration {
	if s.N == 0 {
		return 0
	}
	return s.Sum / time.Duration(s.N)
}
