//go:build !linux

package comet

import (
	"net"
	"syscall"
)

// rawWriter is flush's scratch state; without Linux's raw writes every
// write goes through a writer goroutine.
type rawWriter struct{}

// newRawWriter returns a rawWriter.
func newRawWriter() *rawWriter { return &rawWriter{} }

// rawConnOf returns nil: connections are not written by their pushers
// (conn.inline is false).
func rawConnOf(net.Conn) syscall.RawConn { return nil }

// writeSmall takes nothing: the caller writes through the connection.
func (w *rawWriter) writeSmall(*conn, []byte) int { return 0 }

// write is never reached (conn.inline is false); it takes nothing.
func (w *rawWriter) write(*conn, *sendQueue) bool { return false }
