package bufio

import (
	"io"
)

// pattern returns n bytes of a recognisable pattern starting at offset off.
func pattern(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((off + i) * 7)
	}
	return b
}

// countReader wraps an io.Reader and counts the calls to Read.
type countReader struct {
	rd    io.Reader
	calls int
}

func (r *countReader) Read(p []byte) (int, error) {
	r.calls++
	return r.rd.Read(p)
}

// funcReader is an io.Reader made of a function.
type funcReader func(p []byte) (int, error)

func (f funcReader) Read(p []byte) (int, error) { return f(p) }

// recordWriter records every Write call's slice (not a copy) and appends
// the bytes to data. A positive limit caps the bytes accepted per call;
// err, once set, is returned by every call.
type recordWriter struct {
	calls [][]byte
	data  []byte
	limit int
	err   error
}

func (w *recordWriter) Write(p []byte) (int, error) {
	w.calls = append(w.calls, p)
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	if w.limit > 0 && n > w.limit {
		n = w.limit
	}
	w.data = append(w.data, p[:n]...)
	return n, nil
}

// loopReader returns data over and over, forever.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.off:])
		n += c
		r.off = (r.off + c) % len(r.data)
	}
	return n, nil
}
