package bufio

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

func TestReaderPeekPop(t *testing.T) {
	data := pattern(0, 100)
	r := NewReaderSize(bytes.NewReader(data), 32)
	if got := r.Size(); got != 32 {
		t.Fatalf("Size = %d, want 32", got)
	}
	p, err := r.Peek(10)
	if err != nil || !bytes.Equal(p, data[:10]) {
		t.Fatalf("Peek(10) = %x, %v", p, err)
	}
	if cap(p) != 10 {
		t.Fatalf("cap(Peek(10)) = %d, want 10", cap(p))
	}
	off := 0
	for _, n := range []int{0, 10, 1, 32, 5, 32, 20} {
		p, err := r.Pop(n)
		if err != nil || !bytes.Equal(p, data[off:off+n]) || cap(p) != n {
			t.Fatalf("Pop(%d) at %d = %x (cap %d), %v; want %x", n, off, p, cap(p), err, data[off:off+n])
		}
		off += n
	}
	if _, err := r.Pop(1); err != io.EOF {
		t.Fatalf("Pop at end = %v, want io.EOF", err)
	}
}

func TestReaderPopAtEOF(t *testing.T) {
	r := NewReaderSize(bytes.NewReader([]byte("abc")), 16)
	if p, err := r.Pop(5); err != io.ErrUnexpectedEOF || p != nil {
		t.Fatalf("Pop(5) of 3 bytes = %q, %v; want nil, io.ErrUnexpectedEOF", p, err)
	}
	if got := r.Buffered(); got != 3 {
		t.Fatalf("failed Pop consumed bytes: Buffered = %d, want 3", got)
	}
	if p, err := r.Pop(3); err != nil || string(p) != "abc" {
		t.Fatalf("Pop(3) = %q, %v", p, err)
	}
	if p, err := r.Pop(1); err != io.EOF || p != nil {
		t.Fatalf("Pop(1) at end = %q, %v; want nil, io.EOF", p, err)
	}
	if p, err := r.Peek(1); err != io.EOF || len(p) != 0 {
		t.Fatalf("Peek(1) at end = %q, %v; want empty, io.EOF", p, err)
	}
}

func TestReaderErrors(t *testing.T) {
	errBoom := errors.New("boom")
	r := NewReaderSize(bytes.NewReader(pattern(0, 64)), 16)
	if _, err := r.Peek(-1); err != ErrNegativeCount {
		t.Fatalf("Peek(-1) = %v", err)
	}
	if _, err := r.Pop(-1); err != ErrNegativeCount {
		t.Fatalf("Pop(-1) = %v", err)
	}
	if _, err := r.Discard(-1); err != ErrNegativeCount {
		t.Fatalf("Discard(-1) = %v", err)
	}
	r.Peek(4)
	if p, err := r.Peek(17); err != ErrBufferFull || len(p) != r.Buffered() {
		t.Fatalf("Peek(17) = %d bytes, %v; want the buffered bytes, ErrBufferFull", len(p), err)
	}
	if p, err := r.Pop(17); err != ErrBufferFull || p != nil {
		t.Fatalf("Pop(17) = %v, %v; want nil, ErrBufferFull", p, err)
	}

	bad := NewReaderSize(funcReader(func(p []byte) (int, error) { return len(p) + 1, nil }), 16)
	if _, err := bad.Pop(1); err != ErrInvalidCount {
		t.Fatalf("Pop over a reader returning too much = %v, want ErrInvalidCount", err)
	}
	neg := NewReaderSize(funcReader(func(p []byte) (int, error) { return -1, nil }), 16)
	if _, err := neg.ReadByte(); err != ErrInvalidCount {
		t.Fatalf("ReadByte over a reader returning -1 = %v, want ErrInvalidCount", err)
	}
	empty := NewReaderSize(funcReader(func(p []byte) (int, error) { return 0, nil }), 16)
	if _, err := empty.Pop(1); err != io.ErrNoProgress {
		t.Fatalf("Pop over a reader returning nothing = %v, want io.ErrNoProgress", err)
	}
	failing := NewReaderSize(io.MultiReader(bytes.NewReader([]byte("ab")), iotest.ErrReader(errBoom)), 16)
	if _, err := failing.Pop(3); err != errBoom {
		t.Fatalf("Pop over a failing reader = %v, want %v", err, errBoom)
	}
	if p, err := failing.Pop(2); err != nil || string(p) != "ab" {
		t.Fatalf("Pop after the error = %q, %v; want the buffered bytes", p, err)
	}
}

func TestReaderNoBuffer(t *testing.T) {
	for _, name := range []string{"zero", "reset nil", "reset empty"} {
		t.Run(name, func(t *testing.T) {
			var r Reader
			switch name {
			case "reset nil":
				r.Reset(bytes.NewReader([]byte("abc")), nil)
			case "reset empty":
				r.Reset(bytes.NewReader([]byte("abc")), []byte{})
			}
			checks := []struct {
				op  string
				err error
			}{
				{"Peek", second(r.Peek(1))},
				{"Peek(0)", second(r.Peek(0))},
				{"Pop", second(r.Pop(1))},
				{"Pop(0)", second(r.Pop(0))},
				{"Discard", second(r.Discard(1))},
				{"Read", second(r.Read(make([]byte, 8)))},
				{"ReadByte", second(r.ReadByte())},
			}
			for _, c := range checks {
				if c.err != ErrNoBuffer {
					t.Errorf("%s = %v, want ErrNoBuffer", c.op, c.err)
				}
			}
			if r.Size() != 0 || r.Buffered() != 0 {
				t.Errorf("Size, Buffered = %d, %d; want 0, 0", r.Size(), r.Buffered())
			}
		})
	}
}

// second returns the error of a two-result call.
func second[T any](_ T, err error) error { return err }

func TestReaderReset(t *testing.T) {
	data := pattern(0, 40)
	src := bytes.NewReader(data)
	buf := make([]byte, 16)
	var r Reader
	r.Reset(src, buf)
	if p, err := r.Pop(16); err != nil || !bytes.Equal(p, data[:16]) {
		t.Fatalf("Pop = %x, %v", p, err)
	}
	r.Reset(src, make([]byte, 32))
	if p, err := r.Pop(24); err != nil || !bytes.Equal(p, data[16:]) {
		t.Fatalf("Pop after re-attaching = %x, %v", p, err)
	}
}

func TestReaderReadAndDiscard(t *testing.T) {
	data := pattern(0, 200)
	cr := &countReader{rd: bytes.NewReader(data)}
	r := NewReaderSize(cr, 16)
	if c, err := r.ReadByte(); err != nil || c != data[0] {
		t.Fatalf("ReadByte = %x, %v", c, err)
	}
	small := make([]byte, 4)
	if n, err := r.Read(small); n != 4 || err != nil || !bytes.Equal(small, data[1:5]) {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if n, err := r.Discard(11 + 50); n != 61 || err != nil {
		t.Fatalf("Discard(61) = %d, %v", n, err)
	}
	if n, err := r.Discard(r.Buffered()); n+66 != 80 || err != nil {
		t.Fatalf("Discard(Buffered) = %d, %v; want the rest of a 16-byte fill", n, err)
	}
	calls := cr.calls
	big := make([]byte, 64)
	if n, err := r.Read(big); n != 64 || err != nil || !bytes.Equal(big, data[80:144]) {
		t.Fatalf("large Read = %d, %v", n, err)
	}
	if cr.calls != calls+1 {
		t.Fatalf("large Read into an empty buffer made %d calls, want 1 direct call", cr.calls-calls)
	}
	if n, err := r.Discard(100); n != 56 || err != io.EOF {
		t.Fatalf("Discard past the end = %d, %v; want 56, io.EOF", n, err)
	}
	if n, err := r.Read(big); n != 0 || err != io.EOF {
		t.Fatalf("Read at end = %d, %v", n, err)
	}
	if n, err := r.Read(nil); n != 0 || err != nil {
		t.Fatalf("empty Read at end = %d, %v", n, err)
	}
}

// TestReaderModel runs random operations against a slice model over
// readers that return data in odd sizes.
func TestReaderModel(t *testing.T) {
	data := pattern(0, 5000)
	readers := map[string]func() io.Reader{
		"plain":        func() io.Reader { return bytes.NewReader(data) },
		"byte by byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
		"half":         func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		"EOF with data": func() io.Reader {
			return iotest.DataErrReader(bytes.NewReader(data))
		},
	}
	for name, rd := range readers {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			for _, size := range []int{1, 7, 16, 64} {
				runReaderModel(t, rng, NewReaderSize(rd(), size), data)
			}
		})
	}
}

func runReaderModel(t *testing.T, rng *rand.Rand, r *Reader, data []byte) {
	t.Helper()
	off := 0
	for off < len(data) {
		n := rng.IntN(r.Size() + 1)
		want := data[off:min(off+n, len(data))]
		var got []byte
		var err error
		switch op := rng.IntN(5); op {
		case 0:
			got, err = r.Peek(n)
		case 1:
			got, err = r.Pop(n)
			off += len(got)
		case 2:
			var k int
			k, err = r.Discard(n)
			got, off = data[off:off+k], off+k
		case 3:
			got = make([]byte, n)
			var k int
			k, err = r.Read(got)
			got, want, off = got[:k], data[off:off+k], off+k
		case 4:
			var c byte
			if c, err = r.ReadByte(); err == nil {
				got, want, off = []byte{c}, data[off:off+1], off+1
			}
		}
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			t.Fatalf("size %d at %d: %v", r.Size(), off, err)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("size %d: got %x, want %x", r.Size(), got, want)
		}
	}
	if _, err := r.Pop(1); err != io.EOF {
		t.Fatalf("Pop at end = %v, want io.EOF", err)
	}
}
