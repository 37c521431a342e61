package bufio

// This file compares our Reader with the standard library's
// bufio in the same run; it is the only file that imports it.

import (
	stdbufio "bufio"
	"encoding/binary"
	"io"
	"sync"
	"testing"
)

// Benchmarked packets: a 16-byte header whose first 4 bytes hold the
// packet length, and a 128-byte body, as in the client protocol.
const (
	benchHeaderLen = 16
	benchBodyLen   = 128
	benchBufSize   = 4096
)

// benchStream returns n packets back to back.
func benchStream(n int) []byte {
	var s []byte
	for i := range n {
		s = binary.BigEndian.AppendUint32(s, benchHeaderLen+benchBodyLen)
		s = append(s, pattern(i, benchHeaderLen-4)...)
		s = append(s, pattern(i, benchBodyLen)...)
	}
	return s
}

func BenchmarkReader(b *testing.B) {
	stream := benchStream(7)
	b.Run("ours", func(b *testing.B) {
		r := NewReaderSize(&loopReader{data: stream}, benchBufSize)
		b.SetBytes(benchHeaderLen + benchBodyLen)
		b.ReportAllocs()
		for b.Loop() {
			hdr, err := r.Pop(benchHeaderLen)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.Pop(int(binary.BigEndian.Uint32(hdr)) - benchHeaderLen); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stdlib", func(b *testing.B) { // Peek + Discard: the zero-copy equivalent
		r := stdbufio.NewReaderSize(&loopReader{data: stream}, benchBufSize)
		b.SetBytes(benchHeaderLen + benchBodyLen)
		b.ReportAllocs()
		for b.Loop() {
			hdr, err := r.Peek(benchHeaderLen)
			if err != nil {
				b.Fatal(err)
			}
			n := int(binary.BigEndian.Uint32(hdr))
			if _, err := r.Discard(benchHeaderLen); err != nil {
				b.Fatal(err)
			}
			if _, err := r.Peek(n - benchHeaderLen); err != nil {
				b.Fatal(err)
			}
			if _, err := r.Discard(n - benchHeaderLen); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stdlib-readfull", func(b *testing.B) { // copying into a packet buffer
		r := stdbufio.NewReaderSize(&loopReader{data: stream}, benchBufSize)
		buf := make([]byte, benchBufSize)
		b.SetBytes(benchHeaderLen + benchBodyLen)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := io.ReadFull(r, buf[:benchHeaderLen]); err != nil {
				b.Fatal(err)
			}
			n := int(binary.BigEndian.Uint32(buf))
			if _, err := io.ReadFull(r, buf[:n-benchHeaderLen]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkPool(b *testing.B) {
	b.Run("ours", func(b *testing.B) {
		p := NewPool(PoolConfig{})
		b.ReportAllocs()
		for b.Loop() {
			p.Put(p.Get(benchBufSize))
		}
	})
	b.Run("ours-parallel", func(b *testing.B) {
		p := NewPool(PoolConfig{})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p.Put(p.Get(benchBufSize))
			}
		})
	})
	b.Run("syncpool", func(b *testing.B) { // baseline: one sync.Pool of *[4096]byte
		p := sync.Pool{New: func() any { return new([benchBufSize]byte) }}
		b.ReportAllocs()
		for b.Loop() {
			p.Put(p.Get().(*[benchBufSize]byte))
		}
	})
	b.Run("syncpool-parallel", func(b *testing.B) {
		p := sync.Pool{New: func() any { return new([benchBufSize]byte) }}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p.Put(p.Get().(*[benchBufSize]byte))
			}
		})
	})
}
