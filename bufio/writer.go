package bufio

import "io"

// Writer buffers an io.Writer. Besides Write it hands out free buffer space
// (Peek) to encode headers in place, and writes large shared byte slices
// straight through (WriteRaw). The zero Writer has no buffer and no
// underlying writer: call Reset before use. After a write error every
// further write and Flush returns that error until Reset. A Writer is not
// safe for concurrent use.
type Writer struct {
	buf []byte    // attached buffer; nil when detached
	n   int       // buf[:n] is buffered
	wr  io.Writer // underlying writer
	err error     // sticky write error
}

// NewWriterSize returns a Writer over w with a newly allocated buffer of
// size bytes; size <= 0 means DefaultBufferSize.
func NewWriterSize(w io.Writer, size int) *Writer {
	if size <= 0 {
		size = DefaultBufferSize
	}
	b := new(Writer)
	b.Reset(w, make([]byte, size))
	return b
}

// Reset discards any unflushed data and sticky error, and makes b write to
// w through buf (all of len(buf)). buf may be nil for "no buffer": Write
// and Peek then fail with ErrNoBuffer, while Flush and WriteRaw still work.
// b owns buf until Detach or the next Reset.
func (b *Writer) Reset(w io.Writer, buf []byte) {
	*b = Writer{buf: buf, wr: w}
}

// Detach removes the buffer from b and returns it (nil if none was
// attached), so that an idle connection holds no buffer. Unflushed data is
// dropped with it: Detach is lossless only when Buffered() == 0, i.e. after
// a successful Flush. The underlying writer and any sticky error stay;
// Reset attaches a buffer again.
func (b *Writer) Detach() []byte {
	buf := b.buf
	b.buf, b.n = nil, 0
	return buf
}

// Size returns the size of the attached buffer (0 when detached).
func (b *Writer) Size() int { return len(b.buf) }

// Buffered returns the number of bytes written into the buffer but not yet
// flushed.
func (b *Writer) Buffered() int { return b.n }

// Available returns the number of free bytes in the buffer.
func (b *Writer) Available() int { return len(b.buf) - b.n }

// Flush writes the buffered data to the underlying writer. On a short
// write the unwritten bytes stay buffered and the error (io.ErrShortWrite
// if the writer gave none) becomes sticky.
func (b *Writer) Flush() error {
	if b.err != nil {
		return b.err
	}
	if b.n == 0 {
		return nil
	}
	n, err := b.wr.Write(b.buf[:b.n])
	if n < 0 || n > b.n {
		n, err = 0, ErrInvalidCount
	}
	if n < b.n && err == nil {
		err = io.ErrShortWrite
	}
	if err != nil {
		if n > 0 {
			copy(b.buf, b.buf[n:b.n])
		}
		b.n -= n
		b.err = err
		return err
	}
	b.n = 0
	return nil
}

// Peek returns the next n bytes of free buffer space, flushing first if
// fewer than n are free, so that a header can be encoded in place. The n
// bytes count as written: the caller must fill all of them before the next
// call on b. The slice aliases the buffer. Peek fails with
// ErrNegativeCount, ErrNoBuffer, ErrBufferFull when n exceeds the buffer
// size, or the flush's error.
func (b *Writer) Peek(n int) ([]byte, error) {
	if n < 0 {
		return nil, ErrNegativeCount
	}
	if len(b.buf) == 0 {
		return nil, ErrNoBuffer
	}
	if n > len(b.buf) {
		return nil, ErrBufferFull
	}
	if b.err != nil {
		return nil, b.err
	}
	if n > b.Available() {
		if err := b.Flush(); err != nil {
			return nil, err
		}
	}
	p := b.buf[b.n : b.n+n : b.n+n]
	b.n += n
	return p, nil
}

// Write writes p into the buffer, flushing as it fills (io.Writer
// semantics). When the buffer is empty and p does not fit, p goes straight
// to the underlying writer without a copy. It fails with ErrNoBuffer when
// no buffer is attached (use WriteRaw to write without one).
func (b *Writer) Write(p []byte) (int, error) {
	if len(b.buf) == 0 && len(p) > 0 {
		return 0, ErrNoBuffer
	}
	nn := 0
	for len(p) > b.Available() && b.err == nil {
		var n int
		if b.n == 0 {
			n = b.writeDirect(p)
		} else {
			n = copy(b.buf[b.n:], p)
			b.n += n
			b.Flush()
		}
		nn += n
		p = p[n:]
	}
	if b.err != nil {
		return nn, b.err
	}
	n := copy(b.buf[b.n:], p)
	b.n += n
	return nn + n, nil
}

// writeDirect writes p once to the underlying writer, recording any error
// as sticky, and returns how many bytes were written.
func (b *Writer) writeDirect(p []byte) int {
	n, err := b.wr.Write(p)
	if n < 0 || n > len(p) {
		n, err = 0, ErrInvalidCount
	}
	if n < len(p) && err == nil {
		err = io.ErrShortWrite
	}
	b.err = err
	return n
}

// WriteRaw flushes the buffered data, then writes p straight to the
// underlying writer without copying it, for large byte slices shared by
// many connections (an encoded room batch). p is only read, never
// retained. It needs no buffer. A short write returns io.ErrShortWrite.
func (b *Writer) WriteRaw(p []byte) (int, error) {
	if err := b.Flush(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := b.writeDirect(p)
	return n, b.err
}
