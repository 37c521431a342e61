package bufio

import (
	"bytes"
	"runtime"
	"slices"
	"sync"
	"testing"
)

func TestPoolClasses(t *testing.T) {
	p := NewPool(PoolConfig{})
	tests := []struct{ size, want int }{
		{-1, 512}, {0, 512}, {1, 512}, {512, 512}, {513, 1024}, {4096, 4096},
		{4097, 8192}, {65536, 65536}, {65537, 65537}, {1 << 20, 1 << 20},
	}
	for _, tt := range tests {
		b := p.Get(tt.size)
		if got := len(b.Bytes()); got != tt.want || cap(b.Bytes()) != tt.want {
			t.Errorf("Get(%d) gave %d bytes (cap %d), want %d", tt.size, got, cap(b.Bytes()), tt.want)
		}
		p.Put(b)
	}
}

func TestPoolConfigClasses(t *testing.T) {
	tests := []struct {
		name    string
		classes []int
		want    []int
	}{
		{"default", nil, defaultClasses[:]},
		{"cleaned", []int{0, 2048, -5, 100, 2048}, []int{100, 2048}},
		{"only bad sizes", []int{-1, 0}, defaultClasses[:]},
	}
	for _, tt := range tests {
		p := NewPool(PoolConfig{Classes: tt.classes})
		if got := p.Classes(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Classes = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPoolReuse(t *testing.T) {
	p := NewPool(PoolConfig{Classes: []int{512}})
	seen := make(map[*Buffer]bool)
	const rounds = 100
	for range rounds {
		b := p.Get(1)
		seen[b] = true
		p.Put(b)
	}
	// sync.Pool may drop a buffer that was Put (a quarter of them under
	// -race), but not every one of a hundred.
	if len(seen) == rounds {
		t.Fatalf("%d Get/Put rounds never reused a buffer", rounds)
	}
}

func TestPoolStats(t *testing.T) {
	p := NewPool(PoolConfig{Classes: []int{512}})
	a, b := p.Get(1), p.Get(1)
	p.Put(p.Get(1 << 20)) // oversized: allocated, then dropped
	other := NewPool(PoolConfig{Classes: []int{512}})
	p.Put(other.Get(1)) // from another pool: dropped
	p.Put(nil)
	if st, want := p.Stats(), (PoolStats{Allocs: 3, Drops: 2}); st != want {
		t.Fatalf("Stats = %+v, want %+v", st, want)
	}
	p.Put(a)
	p.Put(b)
}

func TestPoolDoublePutPanics(t *testing.T) {
	p := NewPool(PoolConfig{})
	b := p.Get(1)
	p.Put(b)
	defer func() {
		if recover() == nil {
			t.Fatal("second Put did not panic")
		}
	}()
	p.Put(b)
}

// TestPoolConcurrent has goroutines fill buffers with their own byte and
// check it before Put: a buffer handed to two owners at once would show
// another goroutine's byte (and a data race under -race).
func TestPoolConcurrent(t *testing.T) {
	p := NewPool(PoolConfig{Classes: []int{64, 256}})
	var wg sync.WaitGroup
	shared := make(chan struct{}, 8)
	for g := range 8 {
		wg.Go(func() {
			mark := byte(g + 1)
			for i := range 2000 {
				b := p.Get(64 + i%193) // up to the largest class, 256
				buf := b.Bytes()
				for j := range buf {
					buf[j] = mark
				}
				runtime.Gosched()
				if bytes.IndexFunc(buf, func(r rune) bool { return r != rune(mark) }) >= 0 {
					shared <- struct{}{}
					return
				}
				p.Put(b)
			}
		})
	}
	wg.Wait()
	if len(shared) > 0 {
		t.Fatal("a buffer was handed to two owners")
	}
	if st := p.Stats(); st.Drops != 0 || st.Allocs == 0 || st.Allocs > 8*2000 {
		t.Fatalf("Stats = %+v", st)
	}
}
