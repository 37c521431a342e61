package metrics

import (
	"slices"
	"sync/atomic"
)

// Histogram counts observations in buckets with fixed upper bounds. It is
// safe for concurrent use; Observe never allocates and takes no lock (a
// scrape taken during Observe may see a count one ahead of the buckets).
type Histogram struct {
	bounds []int64         // upper bounds, ascending; read-only
	counts []atomic.Uint64 // counts[i]: observations in (bounds[i-1], bounds[i]]; the last one past every bound
	sum    atomic.Int64
}

// NewHistogram returns a histogram with the given ascending upper bounds
// (in the unit observed, e.g. nanoseconds). It panics if bounds are not
// strictly ascending: they are fixed by the program, not by input.
func NewHistogram(bounds []int64) *Histogram {
	for i := 1; i < len(bounds); i++ {
		if bounds[i] <= bounds[i-1] {
			panic("metrics: histogram bounds not ascending")
		}
	}
	return &Histogram{bounds: slices.Clone(bounds), counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe records v; a negative v (a clock step between two machines)
// counts as 0.
func (h *Histogram) Observe(v int64) {
	v = max(v, 0)
	i, _ := slices.BinarySearch(h.bounds, v)
	h.counts[i].Add(1)
	h.sum.Add(v)
}

// Snapshot is a histogram read at one moment.
type Snapshot struct {
	Bounds []int64  // upper bounds, ascending
	Counts []uint64 // Counts[i]: observations in (Bounds[i-1], Bounds[i]], not cumulative
	Count  uint64   // observations, those past the last bound included
	Sum    int64    // sum of the observations
}

// Snapshot returns the histogram's counts. The buckets are read one by
// one and Count is their sum, so the buckets always add up; under load
// Sum may hold an observation the buckets do not yet.
func (h *Histogram) Snapshot() Snapshot {
	s := Snapshot{Bounds: slices.Clone(h.bounds), Counts: make([]uint64, len(h.bounds))}
	for i := range h.counts {
		n := h.counts[i].Load()
		if i < len(s.Counts) {
			s.Counts[i] = n
		}
		s.Count += n
	}
	s.Sum = h.sum.Load()
	return s
}

// LatencyBounds returns the bucket bounds, in nanoseconds, of the
// latency histograms: 100µs to 10s.
func LatencyBounds() []int64 {
	return []int64{100e3, 250e3, 500e3, 1e6, 2.5e6, 5e6, 10e6, 25e6, 50e6, 100e6, 250e6, 500e6, 1e9, 2.5e9, 5e9, 10e9}
}
