package rpc

import (
	"errors"
	"strconv"
	"strings"
)

// Errors returned by the package. Check them with errors.Is: most are
// wrapped with context.
var (
	// ErrClosed is returned by a Client's methods after Close, and by calls
	// pending when Close ran.
	ErrClosed = errors.New("rpc: client closed")
	// ErrServerClosed is returned by Server.Serve after Shutdown or Close.
	ErrServerClosed = errors.New("rpc: server closed")
	// ErrUnavailable is returned by Call and Send while a Client waits out
	// the backoff after a failed dial; it wraps the last dial error too.
	ErrUnavailable = errors.New("rpc: not connected")
	// ErrConnLost is returned by calls pending on a connection that broke,
	// and by writes to it.
	ErrConnLost = errors.New("rpc: connection lost")
	// ErrFrameTooLarge is reported for a frame whose length field is over
	// the MaxFrameSize of the side that checks it. A sender gets it before
	// anything is written; a receiver closes the connection.
	ErrFrameTooLarge = errors.New("rpc: frame too large")
	// ErrMalformedFrame is reported for a frame shorter than its header or of
	// an unknown or unexpected kind; the receiver closes the connection.
	ErrMalformedFrame = errors.New("rpc: malformed frame")
	// ErrUnknownMethod matches (with errors.Is) the RemoteError a caller gets
	// for a method the server has no handler for.
	ErrUnknownMethod = errors.New("rpc: unknown method")
	// ErrHandlerPanic matches (with errors.Is) the RemoteError a caller gets
	// when the handler panicked.
	ErrHandlerPanic = errors.New("rpc: handler panic")
)

// RemoteError is a handler's error as the caller sees it: the server sends
// the error's text back in a KindError frame.
type RemoteError struct {
	Method  uint16 // the method called
	Message string // the handler error's text
}

// Error returns the remote message unchanged.
func (e *RemoteError) Error() string { return e.Message }

// Is reports whether the remote error is one of the errors the server itself
// produces (ErrUnknownMethod, ErrHandlerPanic, ErrFrameTooLarge for a reply
// over its limit), recognized by their text.
func (e *RemoteError) Is(target error) bool {
	switch target {
	case ErrUnknownMethod, ErrHandlerPanic, ErrFrameTooLarge:
		return strings.HasPrefix(e.Message, target.Error())
	}
	return false
}

// unknownMethodMessage is the error text sent for a call to method m.
func unknownMethodMessage(m uint16) string {
	return ErrUnknownMethod.Error() + " " + strconv.Itoa(int(m))
}
