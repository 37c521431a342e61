//go:build unix

package rawsock

import (
	"io"
	"net"
	"os"
	"syscall"
)

// RawConn returns nc's RawConn, or nil when it has none.
func RawConn(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// readFD makes one read of the non-blocking socket fd.
func readFD(fd int, p []byte) (int, error) {
	n, err := once("read", syscall.Read, fd, p)
	if err == nil && n == 0 {
		return 0, io.EOF
	}
	return n, err
}

// Write makes one write of p to the non-blocking socket fd, inside a
// RawConn.Write or RawConn.Read callback. It returns ErrWouldBlock when
// the socket takes nothing, and may write part of p.
func Write(fd uintptr, p []byte) (int, error) {
	return once("write", syscall.Write, int(fd), p)
}

// once makes the system call op on fd and p, again after EINTR; EAGAIN
// is ErrWouldBlock.
func once(op string, call func(int, []byte) (int, error), fd int, p []byte) (int, error) {
	for {
		n, err := call(fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, ErrWouldBlock
		case err != nil:
			return 0, os.NewSyscallError(op, err)
		}
		return n, nil
	}
}

// Shutdown shuts the socket fd down both ways, inside a RawConn.Control
// callback: its peer reads the end, and its waits and later reads and
// writes end. Unlike a close, it does not wait for a RawConn.Read in
// progress to return.
func Shutdown(fd uintptr) {
	syscall.Shutdown(int(fd), syscall.SHUT_RDWR)
}
