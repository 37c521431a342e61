package rpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
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
	// ErrMalformedFrame is reported for a frame shorter than its header or of
	// an unknown or unexpected kind; the receiver closes the connection.
	ErrMalformedFrame = errors.New("rpc: malformed frame")
)

// Errors with a code: a handler returning one (wrapped or not) makes the
// caller's RemoteError match it with errors.Is.
var (
	// ErrUnknownMethod matches the RemoteError a caller gets for a method
	// the server has no handler for.
	ErrUnknownMethod = NewError(CodeUnknownMethod, "rpc: unknown method")
	// ErrHandlerPanic matches the RemoteError a caller gets when the
	// handler panicked.
	ErrHandlerPanic = NewError(CodeHandlerPanic, "rpc: handler panic")
	// ErrFrameTooLarge is reported for a frame whose length field is over
	// the MaxFrameSize of the side that checks it. A sender gets it before
	// anything is written; a receiver closes the connection; a caller
	// whose reply would be too large gets a RemoteError matching it.
	ErrFrameTooLarge = NewError(CodeFrameTooLarge, "rpc: frame too large")
)

// Codes of the package's own errors. Codes 1-99 belong to package rpc;
// each contract package of the module owns one block of a hundred (see
// Error). Code 0 means "no code": the error matches no sentinel.
const (
	CodeUnknownMethod uint16 = 1
	CodeHandlerPanic  uint16 = 2
	CodeFrameTooLarge uint16 = 3
	CodeTruncated     uint16 = 4
	CodeMalformed     uint16 = 5
)

// Error is a sentinel error with a numeric code that travels with it in
// error frames, so that a caller's RemoteError matches the very sentinel the
// handler returned: errors.Is(err, sentinel) gives the same answer whether a
// service is called in process or over the RPC.
//
// A package that owns errors of a service declares them with NewError,
// each with a code unique in the module: rpc uses 1-99, comet/cometrpc
// 100-199, logic/logicrpc 200-299, job/jobrpc 300-399. Errors are
// compared by code only, never by text.
type Error struct {
	code uint16
	text string
}

// NewError returns a sentinel error with code and text. The code must not
// be 0.
func NewError(code uint16, text string) *Error {
	if code == 0 {
		panic("rpc: error code 0")
	}
	return &Error{code: code, text: text}
}

// Error returns the error's text.
func (e *Error) Error() string { return e.text }

// Code returns the error's code.
func (e *Error) Code() uint16 { return e.code }

// RemoteError is a handler's error as the caller sees it: the server sends
// the error's code and text back in an error frame.
type RemoteError struct {
	Method  uint16 // the method called
	Code    uint16 // the code of the *Error the handler's error wraps; 0 if none
	Message string // the handler error's text
}

// Error returns the remote message unchanged.
func (e *RemoteError) Error() string { return e.Message }

// Is reports whether target is an *Error with the remote error's code.
func (e *RemoteError) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e.Code != 0 && t.code == e.Code
}

// CodeOf returns the code of the first *Error in err's chain, or of a
// RemoteError in it; 0 when there is none.
func CodeOf(err error) uint16 {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.code
	}
	var re *RemoteError
	if errors.As(err, &re) {
		return re.Code
	}
	return 0
}

// errorCodeLen is the size of the code at the start of an error frame's
// payload.
const errorCodeLen = 2

// appendErrorPayload appends the payload of an error frame for err: its
// code (uint16 BE), then its text.
func appendErrorPayload(b []byte, err error) []byte {
	b = binary.BigEndian.AppendUint16(b, CodeOf(err))
	return append(b, err.Error()...)
}

// parseErrorPayload decodes the payload of an error frame of method.
func parseErrorPayload(method uint16, p []byte) (*RemoteError, error) {
	if len(p) < errorCodeLen {
		return nil, fmt.Errorf("%w: error payload of %d bytes", ErrMalformedFrame, len(p))
	}
	return &RemoteError{Method: method, Code: binary.BigEndian.Uint16(p), Message: string(p[errorCodeLen:])}, nil
}

// unknownMethodError is the error sent for a call to method m.
func unknownMethodError(m uint16) error {
	return fmt.Errorf("%w %s", ErrUnknownMethod, strconv.Itoa(int(m)))
}
