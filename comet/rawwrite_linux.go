package comet

import (
	"errors"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// rawWriter writes a connection's waiting messages with non-blocking
// vectored writes straight on the socket (flush). One belongs to one
// goroutine at a time: the room workers keep one each, other pushers take
// one from the comet's pool. It holds nothing between writes.
type rawWriter struct {
	fn   func(fd uintptr) bool // w.writev, made once so a write does not allocate
	msgs [][]byte              // the messages of the current write
	one  [1][]byte             // backs msgs for writeSmall
	iov  []syscall.Iovec       // their iovecs (at most maxWritev)
	n    int                   // bytes the last write took
	err  syscall.Errno         // its error, 0 for none
}

// newRawWriter returns a rawWriter.
func newRawWriter() *rawWriter {
	w := &rawWriter{iov: make([]syscall.Iovec, 0, maxWritev)}
	w.fn = w.writev
	return w
}

// write writes q's messages to c's socket without waiting for it, up to
// maxWritev at a time, and reports whether the socket took them all;
// otherwise q keeps what it did not take (the first message maybe cut).
// c.wmu must be held.
func (w *rawWriter) write(c *conn, q *sendQueue) bool {
	for len(q.msgs) > 0 {
		batch := q.msgs[:min(len(q.msgs), maxWritev)]
		want := 0
		for _, m := range batch {
			want += len(m)
		}
		if !w.writeBatch(c, batch) {
			return false
		}
		if w.n < want {
			q.msgs = q.msgs[:copy(q.msgs, consume(q.msgs, w.n))]
			return false
		}
		q.msgs = q.msgs[:copy(q.msgs, q.msgs[len(batch):])]
	}
	return true
}

// writeSmall writes b to c's socket without waiting and returns how many
// bytes the socket took (0 when the write failed or would wait). c.wmu
// must be held.
func (w *rawWriter) writeSmall(c *conn, b []byte) int {
	w.one[0] = b
	ok := w.writeBatch(c, w.one[:])
	w.one[0] = nil
	if !ok {
		return 0
	}
	return w.n
}

// writeBatch makes one non-blocking vectored write of batch to c's
// socket; it reports false when nothing could be tried or the write
// failed (the writer goroutine then finds out why). A write deadline that
// passed (left by an earlier blocking write) is cleared first: it would
// refuse the write, and a non-blocking write needs none.
func (w *rawWriter) writeBatch(c *conn, batch [][]byte) bool {
	w.msgs, w.n, w.err = batch, 0, 0
	err := c.raw.Write(w.fn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		_ = c.nc.SetWriteDeadline(time.Time{})
		err = c.raw.Write(w.fn)
	}
	w.msgs = nil
	return err == nil && (w.err == 0 || w.n > 0)
}

// writev is the raw write: one writev system call of w.msgs on fd, never
// waiting for the socket. It always returns true (RawConn.Write must not
// wait for writability).
func (w *rawWriter) writev(fd uintptr) bool {
	iov := w.iov[:0]
	for _, m := range w.msgs {
		if len(m) == 0 {
			continue
		}
		v := syscall.Iovec{Base: &m[0]}
		v.SetLen(len(m))
		iov = append(iov, v)
	}
	if len(iov) == 0 {
		return true
	}
	for {
		n, _, errno := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		if errno == syscall.EINTR {
			continue
		}
		w.n, w.err = int(n), errno
		if errno != 0 {
			w.n = 0
		}
		break
	}
	clear(iov) // hold no message past the write
	w.iov = iov[:0]
	return true
}

// consume returns msgs without their first n bytes: whole messages
// dropped, the next one cut.
func consume(msgs [][]byte, n int) [][]byte {
	for n > 0 && len(msgs) > 0 {
		if n < len(msgs[0]) {
			msgs[0] = msgs[0][n:]
			return msgs
		}
		n -= len(msgs[0])
		msgs = msgs[1:]
	}
	return msgs
}
