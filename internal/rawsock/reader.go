package rawsock

import (
	"errors"
	"net"
)

// ErrWouldBlock is what a Reader reports inside RawConn.Read when the
// socket has nothing to read, and what Write reports when it takes
// nothing.
var ErrWouldBlock = errors.New("rawsock: socket would block")

// Reader reads a connection. Outside RawConn.Read it reads the net.Conn;
// between Enter and Leave it makes one non-blocking read of the socket
// per call and reports ErrWouldBlock when it is empty. It is what a
// bufio.Reader of the connection reads, so that one buffer serves both.
type Reader struct {
	nc net.Conn
	fd int // the socket between Enter and Leave, -1 outside
}

// NewReader returns a Reader of nc.
func NewReader(nc net.Conn) *Reader { return &Reader{nc: nc, fd: -1} }

// Reset makes r read nc.
func (r *Reader) Reset(nc net.Conn) { *r = Reader{nc: nc, fd: -1} }

// Enter makes r read the socket fd directly: call it first in a
// RawConn.Read callback.
func (r *Reader) Enter(fd uintptr) { r.fd = int(fd) }

// Leave makes r read the net.Conn again: call it before the callback
// returns.
func (r *Reader) Leave() { r.fd = -1 }

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if r.fd < 0 {
		return r.nc.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	return readFD(r.fd, p)
}
