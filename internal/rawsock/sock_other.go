//go:build !unix

package rawsock

import (
	"net"
	"syscall"
)

// RawConn returns nil off Unix: callers read with blocking reads there.
func RawConn(net.Conn) syscall.RawConn { return nil }

// readFD is never called off Unix.
func readFD(int, []byte) (int, error) { return 0, ErrWouldBlock }

// Write is never called off Unix.
func Write(uintptr, []byte) (int, error) { return 0, ErrWouldBlock }

// Shutdown is never called off Unix.
func Shutdown(uintptr) {}
