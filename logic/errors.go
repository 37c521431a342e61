package logic

import (
	"errors"

	"github.com/goimx/goim/logic/logicrpc"
)

// Errors returned by the package. Check them with errors.Is: most are
// wrapped with context. The errors of the logic service itself
// (ErrBadToken, ErrBadNode, ErrBadRequest) live in package logicrpc, so
// that comets and jobs match them over the RPC too.
var (
	// ErrServerClosed is returned by ServeAPI and ServeRPC after Shutdown
	// or Close, and by pushes and services once Logic is closed. It is the
	// contract's logicrpc.ErrServerClosed.
	ErrServerClosed = logicrpc.ErrServerClosed
	// ErrBadParam is a missing or malformed HTTP parameter (a -400).
	ErrBadParam = errors.New("logic: bad parameter")
	// ErrMessageTooLarge is a push body over Config.MaxMessageSize (a -400).
	ErrMessageTooLarge = errors.New("logic: message too large")
	// ErrNoJob is a push that found no live job node (a -500).
	ErrNoJob = errors.New("logic: no job node available")
)
