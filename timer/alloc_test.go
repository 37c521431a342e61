//go:build !race

package timer

import (
	"testing"
	"time"
)

// TestZeroAllocs pins that Add, Reset, Del and firing do not allocate once
// the free list holds enough entries.
func TestZeroAllocs(t *testing.T) {
	tm := New(1024)
	defer tm.Stop()
	fn := func() {}
	for i := range 1000 {
		tm.Add(time.Hour+time.Duration(i), fn)
	}
	h := tm.Add(time.Hour, fn)
	fired := make(chan struct{}, 1)
	signal := func() { fired <- struct{}{} }

	tests := []struct {
		name string
		f    func()
	}{
		{"Add+Del", func() { tm.Del(tm.Add(time.Hour, fn)) }},
		{"Reset", func() { tm.Reset(h, time.Hour) }},
		{"Reset stale", func() { tm.Reset(Handle{}, time.Hour) }},
		{"Add+fire", func() {
			tm.Add(0, signal)
			<-fired
		}},
	}
	for _, tc := range tests {
		if got := testing.AllocsPerRun(200, tc.f); got != 0 {
			t.Errorf("%s: %v allocs per run, want 0", tc.name, got)
		}
	}
}
