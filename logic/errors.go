package logic

import "errors"

// Errors returned by the package. Check them with errors.Is: most are
// wrapped with context.
var (
	// ErrClosed is returned by ServeAPI and ServeRPC after Shutdown or
	// Close, and by pushes once Logic is closed.
	ErrClosed = errors.New("logic: closed")
	// ErrBadToken refuses a connection whose auth token is malformed.
	ErrBadToken = errors.New("logic: bad token")
	// ErrBadParam is a missing or malformed HTTP parameter (a -400).
	ErrBadParam = errors.New("logic: bad parameter")
	// ErrMessageTooLarge is a push body over Config.MaxMessageSize (a -400).
	ErrMessageTooLarge = errors.New("logic: message too large")
	// ErrNoJob is a push that found no live job node (a -500).
	ErrNoJob = errors.New("logic: no job node available")
	// ErrBadNode is a Report with a missing id or an unknown kind.
	ErrBadNode = errors.New("logic: bad node")
	// ErrBadRequest is an RPC request missing a required field.
	ErrBadRequest = errors.New("logic: bad request")
)
