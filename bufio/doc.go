// Package bufio implements buffered readers and writers for connections that
// hand out slices of their own buffer, and a pool of fixed-size buffers.
//
// Unlike the standard library's bufio, the buffer is attached and detached
// by the caller: Reset(rd, buf) attaches a buffer (typically one from a
// Pool) and Detach gives it back, so an idle connection can hold no buffer
// at all. Reader.Pop returns the next n bytes as a slice of the buffer
// (no copy) and Writer.Peek returns n bytes of free buffer space to encode a
// header in place.
//
// Ownership: a buffer passed to Reset belongs to the Reader or Writer until
// Detach returns it (or Reset replaces it); the caller must not read or
// write it in between except through the slices the Reader or Writer hands
// out. Slices returned by Reader.Peek, Reader.Pop and Writer.Peek alias the
// buffer and are valid only until the next call on the same Reader or
// Writer. Buffers from a Pool belong to the caller between Pool.Get and
// Pool.Put; after Put, neither the Buffer nor any slice of it may be used.
//
// A Reader or Writer is not safe for concurrent use; a Pool is.
//
// The package imports only the standard library. Its name clashes with the
// standard library's bufio: no file should import both.
package bufio

import "errors"

// DefaultBufferSize is the buffer size NewReaderSize and NewWriterSize use
// when asked for a size of zero or less.
const DefaultBufferSize = 4096

// maxConsecutiveEmptyReads is how many (0, nil) reads in a row a Reader
// accepts before failing with io.ErrNoProgress.
const maxConsecutiveEmptyReads = 100

// Errors returned by Reader and Writer; check them with errors.Is.
var (
	// ErrBufferFull is returned when a request for n bytes cannot be met
	// because n is larger than the attached buffer.
	ErrBufferFull = errors.New("bufio: buffer full")
	// ErrNegativeCount is returned for a negative byte count.
	ErrNegativeCount = errors.New("bufio: negative count")
	// ErrNoBuffer is returned by operations that need a buffer when none is
	// attached (after Detach, or Reset with a nil or empty buffer).
	ErrNoBuffer = errors.New("bufio: no buffer attached")
	// ErrInvalidCount is returned when the underlying io.Reader or
	// io.Writer reports a byte count outside [0, len(p)].
	ErrInvalidCount = errors.New("bufio: invalid count from underlying reader or writer")
)
