package bench

import (
	"math"
	"testing"
	"time"
)

func TestHistIndex(t *testing.T) {
	prev := -1
	for _, v := range histTestValues() {
		i := histIndex(v)
		if i < prev {
			t.Fatalf("index of %d is %d, below the previous value's %d", v, i, prev)
		}
		prev = i
		if v >= 1<<histMaxBits {
			if i != histBuckets-1 {
				t.Fatalf("index of %d is %d, want the last bucket", v, i)
			}
			continue
		}
		low, width := histLow(i)
		if v < low || v >= low+width {
			t.Fatalf("value %d in bucket %d = [%d, %d)", v, i, low, low+width)
		}
		if v >= 2*histSub && float64(width)/float64(low) > 1.0/histSub+1e-12 {
			t.Fatalf("bucket %d = [%d, %d) is wider than 1/%d of its values", i, low, low+width, histSub)
		}
	}
}

// histTestValues returns increasing values covering every bucket edge.
func histTestValues() []uint64 {
	var vs []uint64
	for v := uint64(0); v < 300; v++ {
		vs = append(vs, v)
	}
	for e := 9; e < 44; e++ {
		for _, d := range []int64{-1, 0, 1} {
			vs = append(vs, uint64(int64(1)<<e+d))
		}
		vs = append(vs, 3<<(e-1))
	}
	for i := 1; i < len(vs); i++ { // keep them increasing
		if vs[i] < vs[i-1] {
			vs[i], vs[i-1] = vs[i-1], vs[i]
		}
	}
	return vs
}

func TestHistogramQuantiles(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 10000; i++ {
		h.Record(i, time.Duration(i)*time.Microsecond)
	}
	s := h.Snapshot()
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 5000 * time.Microsecond},
		{0.9, 9000 * time.Microsecond},
		{0.99, 9900 * time.Microsecond},
		{1, 10000 * time.Microsecond},
	}
	for _, tt := range tests {
		got := s.Quantile(tt.q)
		if rel := math.Abs(float64(got-tt.want)) / float64(tt.want); rel > 1.0/histSub {
			t.Errorf("q%v = %v, want %v within %.1f%%", tt.q, got, tt.want, 100.0/histSub)
		}
	}
	if s.N != 10000 || h.Count() != 10000 {
		t.Errorf("N = %d, Count = %d, want 10000", s.N, h.Count())
	}
	if s.Max != 10*time.Millisecond {
		t.Errorf("Max = %v", s.Max)
	}
	if want := 5000500 * time.Nanosecond; s.Mean() != want {
		t.Errorf("Mean = %v, want %v", s.Mean(), want)
	}
}

func TestHistogramEdges(t *testing.T) {
	h := NewHistogram()
	if s := h.Snapshot(); s.Quantile(0.99) != 0 || s.Mean() != 0 {
		t.Errorf("empty: q99 %v, mean %v", s.Quantile(0.99), s.Mean())
	}
	h.Record(-7, -time.Second) // negative hint and value
	h.Record(3, time.Hour)     // beyond the last bucket
	s := h.Snapshot()
	if s.N != 2 || s.Quantile(0.01) != 0 || s.Quantile(1) != time.Hour {
		t.Errorf("N %d, q1 %v, q100 %v", s.N, s.Quantile(0.01), s.Quantile(1))
	}
}

func TestSnapshotSub(t *testing.T) {
	h := NewHistogram()
	for range 100 {
		h.Record(0, time.Millisecond)
	}
	first := h.Snapshot()
	for range 100 {
		h.Record(1, 100*time.Millisecond)
	}
	d := h.Snapshot().Sub(first)
	if d.N != 100 || d.Sum != 10*time.Second {
		t.Fatalf("N %d, Sum %v", d.N, d.Sum)
	}
	if q := d.Quantile(0.5); q < 97*time.Millisecond || q > 100*time.Millisecond {
		t.Errorf("p50 of the second half = %v", q)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.Record(i, time.Duration(i&0xfffff)*time.Microsecond)
		i++
	}
}

func BenchmarkHistogramRecordParallel(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			h.Record(i, 3*time.Millisecond)
			i++
		}
	})
}
