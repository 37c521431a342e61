//go:build !race

package metrics

import "testing"

// TestObserveAllocs pins Histogram.Observe at zero allocations.
func TestObserveAllocs(t *testing.T) {
	h := NewHistogram(LatencyBounds())
	if n := testing.AllocsPerRun(1000, func() { h.Observe(12345) }); n != 0 {
		t.Errorf("Observe: %v allocs, want 0", n)
	}
}
