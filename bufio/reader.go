package bufio

import "io"

// Reader buffers an io.Reader and hands out slices of its buffer. The zero
// Reader has no buffer and no underlying reader: call Reset before use.
// A Reader is not safe for concurrent use.
type Reader struct {
	buf []byte    // attached buffer; nil when detached
	rd  io.Reader // underlying reader
	r   int       // read position in buf
	w   int       // write position in buf: buf[r:w] is buffered
	err error     // error from rd not yet returned to the caller
}

// NewReaderSize returns a Reader over rd with a newly allocated buffer of
// size bytes; size <= 0 means DefaultBufferSize.
func NewReaderSize(rd io.Reader, size int) *Reader {
	if size <= 0 {
		size = DefaultBufferSize
	}
	b := new(Reader)
	b.Reset(rd, make([]byte, size))
	return b
}

// Reset discards any buffered data and pending error, and makes b read from
// rd into buf (all of len(buf)). buf may be nil for "no buffer": operations
// that need one then fail with ErrNoBuffer. b owns buf until the next
// Reset.
func (b *Reader) Reset(rd io.Reader, buf []byte) {
	*b = Reader{buf: buf, rd: rd}
}

// Size returns the size of the attached buffer (0 when detached).
func (b *Reader) Size() int { return len(b.buf) }

// Buffered returns the number of bytes that can be read without reading
// from the underlying reader.
func (b *Reader) Buffered() int { return b.w - b.r }

// readErr returns the pending error and clears it.
func (b *Reader) readErr() error {
	err := b.err
	b.err = nil
	return err
}

// fill moves the buffered bytes to the front of the buffer and reads once
// more from the underlying reader, retrying empty reads. It records any
// error in b.err. The buffer must not be full.
func (b *Reader) fill() {
	if b.r > 0 {
		copy(b.buf, b.buf[b.r:b.w])
		b.w -= b.r
		b.r = 0
	}
	for range maxConsecutiveEmptyReads {
		n, err := b.rd.Read(b.buf[b.w:])
		if n < 0 || n > len(b.buf)-b.w {
			b.err = ErrInvalidCount
			return
		}
		b.w += n
		if err != nil {
			b.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	b.err = io.ErrNoProgress
}

// Peek returns the next n bytes without consuming them, reading from the
// underlying reader as needed. The slice aliases the buffer and is valid
// until the next call on b. If fewer than n bytes are returned, the error
// says why: ErrBufferFull when n exceeds the buffer size, otherwise the
// underlying reader's error (io.EOF at the end of the stream). Peek fails
// with ErrNegativeCount for n < 0 and ErrNoBuffer when no buffer is
// attached.
func (b *Reader) Peek(n int) ([]byte, error) {
	if n < 0 {
		return nil, ErrNegativeCount
	}
	if len(b.buf) == 0 {
		return nil, ErrNoBuffer
	}
	if n > len(b.buf) {
		return b.buf[b.r:b.w:b.w], ErrBufferFull
	}
	for b.w-b.r < n && b.err == nil {
		b.fill()
	}
	if b.w-b.r < n {
		return b.buf[b.r:b.w:b.w], b.readErr()
	}
	return b.buf[b.r : b.r+n : b.r+n], nil
}

// Pop returns the next n bytes and consumes them, reading from the
// underlying reader as needed. The slice aliases the buffer (its capacity
// ends at n) and is valid until the next call on b.
//
// On error Pop returns nil and consumes nothing: ErrNegativeCount,
// ErrNoBuffer, ErrBufferFull when n exceeds the buffer size, io.EOF when
// the stream ended with no byte buffered, io.ErrUnexpectedEOF when it ended
// with fewer than n bytes buffered (io.ReadFull's convention), or the
// underlying reader's error.
func (b *Reader) Pop(n int) ([]byte, error) {
	if n > 0 && n <= b.w-b.r {
		d := b.buf[b.r : b.r+n : b.r+n]
		b.r += n
		return d, nil
	}
	d, err := b.Peek(n)
	if err != nil {
		if err == io.EOF && len(d) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	b.r += n
	return d, nil
}

// Discard skips the next n bytes and returns how many it skipped. n may
// exceed the buffer size. If it skipped fewer than n bytes it also returns
// the error that stopped it (the underlying reader's, ErrNegativeCount or
// ErrNoBuffer).
func (b *Reader) Discard(n int) (int, error) {
	if n < 0 {
		return 0, ErrNegativeCount
	}
	if n == 0 {
		return 0, nil
	}
	if len(b.buf) == 0 {
		return 0, ErrNoBuffer
	}
	remain := n
	for {
		skip := min(b.w-b.r, remain)
		b.r += skip
		remain -= skip
		if remain == 0 {
			return n, nil
		}
		if b.err != nil {
			return n - remain, b.readErr()
		}
		b.fill()
	}
}

// Read reads up to len(p) bytes into p (io.Reader semantics), copying from
// the buffer; it calls the underlying reader at most once, directly into p
// when the buffer is empty and p is at least as large as it. It fails with
// ErrNoBuffer when no buffer is attached.
func (b *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		if b.Buffered() > 0 {
			return 0, nil
		}
		return 0, b.readErr()
	}
	if len(b.buf) == 0 {
		return 0, ErrNoBuffer
	}
	if b.r == b.w {
		if b.err != nil {
			return 0, b.readErr()
		}
		if len(p) >= len(b.buf) {
			return b.readDirect(p)
		}
		b.r, b.w = 0, 0
		b.fill()
		if b.r == b.w {
			return 0, b.readErr()
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// readDirect reads once from the underlying reader into p, bypassing the
// empty buffer.
func (b *Reader) readDirect(p []byte) (int, error) {
	n, err := b.rd.Read(p)
	if n < 0 || n > len(p) {
		return 0, ErrInvalidCount
	}
	return n, err
}

// ReadByte reads and returns one byte (io.ByteReader). It fails with
// ErrNoBuffer when no buffer is attached.
func (b *Reader) ReadByte() (byte, error) {
	if len(b.buf) == 0 {
		return 0, ErrNoBuffer
	}
	for b.r == b.w {
		if b.err != nil {
			return 0, b.readErr()
		}
		b.fill()
	}
	c := b.buf[b.r]
	b.r++
	return c, nil
}
