//go:build !race

package bufio

import "testing"

// TestZeroAllocs pins the per-message paths at 0 allocations.
func TestZeroAllocs(t *testing.T) {
	stream := benchStream(3)
	r := NewReaderSize(&loopReader{data: stream}, 1024)
	body := pattern(0, 100)
	p := NewPool(PoolConfig{})
	p.Put(p.Get(4096))
	tests := []struct {
		name string
		fn   func()
	}{
		{"Reader.Pop", func() { _, _ = r.Pop(100) }},
		{"Reader.Peek+Discard", func() { _, _ = r.Peek(10); _, _ = r.Discard(10) }},
		{"Reader.ReadByte", func() { _, _ = r.ReadByte() }},
		{"Reader.Read", func() { _, _ = r.Read(body) }},
		{"Pool.Get+Put", func() { p.Put(p.Get(4096)) }},
		{"Reset", func() { r.Reset(r.rd, r.buf) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(1000, tt.fn); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", tt.name, n)
		}
	}
}
