package bufio

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func TestWriterPeekWrite(t *testing.T) {
	var rec recordWriter
	w := NewWriterSize(&rec, 16)
	hdr, err := w.Peek(4)
	if err != nil || len(hdr) != 4 || cap(hdr) != 4 {
		t.Fatalf("Peek(4) = %d bytes (cap %d), %v", len(hdr), cap(hdr), err)
	}
	copy(hdr, "HEAD")
	if w.Buffered() != 4 || w.Available() != 12 {
		t.Fatalf("after Peek: Buffered %d, Available %d; want 4, 12", w.Buffered(), w.Available())
	}
	if n, err := w.Write([]byte("body-that-fits")); n != 14 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	hdr, err = w.Peek(16) // flushes the 18 bytes so far first
	if err != nil {
		t.Fatal(err)
	}
	copy(hdr, "0123456789abcdef")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := string(rec.data), "HEADbody-that-fits0123456789abcdef"; got != want {
		t.Fatalf("wrote %q, want %q", got, want)
	}
	if _, err := w.Peek(17); err != ErrBufferFull {
		t.Fatalf("Peek(17) = %v, want ErrBufferFull", err)
	}
	if _, err := w.Peek(-1); err != ErrNegativeCount {
		t.Fatalf("Peek(-1) = %v, want ErrNegativeCount", err)
	}
}

func TestWriterLargeWriteGoesDirect(t *testing.T) {
	var rec recordWriter
	w := NewWriterSize(&rec, 16)
	big := pattern(0, 40)
	if n, err := w.Write(big); n != 40 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if len(rec.calls) != 1 || &rec.calls[0][0] != &big[0] {
		t.Fatalf("a large write into an empty buffer made %d calls, want 1 without a copy", len(rec.calls))
	}
	w.Write([]byte("ab"))
	if n, err := w.Write(big); n != 40 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	w.Flush()
	if want := append(append(bytes.Clone(big), "ab"...), big...); !bytes.Equal(rec.data, want) {
		t.Fatalf("wrote %x, want %x", rec.data, want)
	}
}

func TestWriterWriteRaw(t *testing.T) {
	var rec recordWriter
	w := NewWriterSize(&rec, 64)
	w.Write([]byte("small"))
	batch := pattern(0, 32)
	if n, err := w.WriteRaw(batch); n != 32 || err != nil {
		t.Fatalf("WriteRaw = %d, %v", n, err)
	}
	if len(rec.calls) != 2 || string(rec.calls[0]) != "small" || &rec.calls[1][0] != &batch[0] {
		t.Fatalf("WriteRaw made calls %q; want the buffered bytes, then the batch itself", rec.calls)
	}
	if n, err := w.WriteRaw(nil); n != 0 || err != nil || len(rec.calls) != 2 {
		t.Fatalf("WriteRaw(nil) = %d, %v with %d calls", n, err, len(rec.calls))
	}
}

func TestWriterNoBuffer(t *testing.T) {
	var rec recordWriter
	w := NewWriterSize(&rec, 16)
	if got := w.Detach(); len(got) != 16 {
		t.Fatalf("Detach returned %d bytes, want the 16-byte buffer", len(got))
	}
	if _, err := w.Write([]byte("x")); err != ErrNoBuffer {
		t.Fatalf("Write = %v, want ErrNoBuffer", err)
	}
	if _, err := w.Peek(1); err != ErrNoBuffer {
		t.Fatalf("Peek = %v, want ErrNoBuffer", err)
	}
	if n, err := w.Write(nil); n != 0 || err != nil {
		t.Fatalf("empty Write = %d, %v", n, err)
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush with nothing buffered = %v", err)
	}
	if n, err := w.WriteRaw([]byte("raw")); n != 3 || err != nil || string(rec.data) != "raw" {
		t.Fatalf("WriteRaw without buffer = %d, %v", n, err)
	}
	if w.Size() != 0 || w.Available() != 0 || w.Buffered() != 0 {
		t.Fatalf("Size %d, Available %d, Buffered %d; want 0", w.Size(), w.Available(), w.Buffered())
	}
	var zero Writer
	if _, err := zero.Peek(1); err != ErrNoBuffer {
		t.Fatalf("zero Writer Peek = %v, want ErrNoBuffer", err)
	}
	w.Reset(&rec, make([]byte, 8))
	if _, err := w.Write([]byte("again")); err != nil || w.Buffered() != 5 {
		t.Fatalf("Write after Reset = %v, Buffered %d", err, w.Buffered())
	}
}

func TestWriterErrorsAreSticky(t *testing.T) {
	errBoom := errors.New("boom")
	rec := &recordWriter{err: errBoom}
	w := NewWriterSize(rec, 8)
	w.Write([]byte("abc"))
	if err := w.Flush(); err != errBoom {
		t.Fatalf("Flush = %v, want %v", err, errBoom)
	}
	if w.Buffered() != 3 {
		t.Fatalf("failed Flush dropped data: Buffered = %d", w.Buffered())
	}
	rec.err = nil
	ops := map[string]error{
		"Flush":    w.Flush(),
		"Write":    second(w.Write([]byte("x"))),
		"Peek":     second(w.Peek(1)),
		"WriteRaw": second(w.WriteRaw([]byte("x"))),
	}
	for op, err := range ops {
		if err != errBoom {
			t.Errorf("%s after an error = %v, want %v", op, err, errBoom)
		}
	}
	w.Reset(rec, make([]byte, 8))
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush after Reset = %v", err)
	}
}

func TestWriterShortAndInvalidWrites(t *testing.T) {
	short := &recordWriter{limit: 2}
	w := NewWriterSize(short, 8)
	w.Write([]byte("abcde"))
	if err := w.Flush(); err != io.ErrShortWrite {
		t.Fatalf("Flush to a short writer = %v, want io.ErrShortWrite", err)
	}
	if w.Buffered() != 3 || string(short.data) != "ab" {
		t.Fatalf("after a short write: Buffered %d, wrote %q; want 3, \"ab\"", w.Buffered(), short.data)
	}
	if n, err := NewWriterSize(short, 8).WriteRaw([]byte("xyz")); n != 2 || err != io.ErrShortWrite {
		t.Fatalf("WriteRaw to a short writer = %d, %v", n, err)
	}
	liar := funcWriter(func(p []byte) (int, error) { return len(p) + 1, nil })
	w = NewWriterSize(liar, 8)
	w.Write([]byte("abc"))
	if err := w.Flush(); err != ErrInvalidCount {
		t.Fatalf("Flush to a writer returning too much = %v, want ErrInvalidCount", err)
	}
	if _, err := NewWriterSize(liar, 8).Write(pattern(0, 20)); err != ErrInvalidCount {
		t.Fatalf("direct Write to a writer returning too much = %v, want ErrInvalidCount", err)
	}
}

// funcWriter is an io.Writer made of a function.
type funcWriter func(p []byte) (int, error)

func (f funcWriter) Write(p []byte) (int, error) { return f(p) }

// TestWriterModel runs random Peek/Write/WriteRaw/Flush sequences and
// checks the bytes that reach the underlying writer.
func TestWriterModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{1, 7, 16, 64} {
		var rec recordWriter
		var want []byte
		w := NewWriterSize(&rec, size)
		for i := range 2000 {
			n := rng.IntN(2*size + 1)
			p := pattern(i, n)
			switch rng.IntN(4) {
			case 0:
				n = min(n, size)
				hdr, err := w.Peek(n)
				if err != nil {
					t.Fatal(err)
				}
				copy(hdr, p)
				want = append(want, p[:n]...)
			case 1:
				if _, err := w.Write(p); err != nil {
					t.Fatal(err)
				}
				want = append(want, p...)
			case 2:
				if _, err := w.WriteRaw(p); err != nil {
					t.Fatal(err)
				}
				want = append(want, p...)
			case 3:
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rec.data, want) {
			t.Fatalf("size %d: wrote %d bytes that differ from the %d expected", size, len(rec.data), len(want))
		}
	}
}
