// Package bufio implements a buffered stream reader that hands out slices
// of its own buffer, and a pool of fixed-size buffers.
//
// Reader.Pop returns the next n bytes as a slice of the buffer (no copy);
// Reset(rd, buf) gives a Reader the buffer of the caller's choosing.
//
// Ownership: a buffer passed to Reset belongs to the Reader until the next
// Reset; the caller must not read or write it in between except through
// the slices the Reader hands out. Slices returned by Reader.Peek and
// Reader.Pop alias the buffer and are valid only until the next call on the
// same Reader. Buffers from a Pool belong to the caller between Pool.Get and
// Pool.Put; after Put, neither the Buffer nor any slice of it may be used.
//
// A Reader is not safe for concurrent use; a Pool is.
//
// The package imports only the standard library. Its name clashes with the
// standard library's bufio: no file should import both.
package bufio

import "errors"

// DefaultBufferSize is the buffer size NewReaderSize uses
// when asked for a size of zero or less.
const DefaultBufferSize = 4096

// maxConsecutiveEmptyReads is how many (0, nil) reads in a row a Reader
// accepts before failing with io.ErrNoProgress.
const maxConsecutiveEmptyReads = 100

// Errors returned by Reader; check them with errors.Is.
var (
	// ErrBufferFull is returned when a request for n bytes cannot be met
	// because n is larger than the attached buffer.
	ErrBufferFull = errors.New("bufio: buffer full")
	// ErrNegativeCount is returned for a negative byte count.
	ErrNegativeCount = errors.New("bufio: negative count")
	// ErrNoBuffer is returned by operations that need a buffer when none is
	// attached (the zero Reader, or Reset with a nil or empty buffer).
	ErrNoBuffer = errors.New("bufio: no buffer attached")
	// ErrInvalidCount is returned when the underlying io.Reader
	// reports a byte count outside [0, len(p)].
	ErrInvalidCount = errors.New("bufio: invalid count from underlying reader")
)
