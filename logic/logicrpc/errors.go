package logicrpc

import "github.com/goimx/goim/rpc"

// Errors of the logic service. They keep their identity over the RPC:
// errors.Is matches them in a caller's error whether logic is called in
// process or through Client.
var (
	// ErrServerClosed is returned by logic's Serve methods after Shutdown
	// or Close, and by its services once it is closed.
	ErrServerClosed = rpc.NewError(200, "logic: server closed")
	// ErrBadToken refuses a connection whose auth token is malformed.
	ErrBadToken = rpc.NewError(201, "logic: bad token")
	// ErrBadNode is a Report with a missing id or an unknown kind, or of
	// an id a live node of the same kind holds at another RPC address (the
	// holder keeps it until it is silent for the node TTL), or a Nodes
	// request of an unknown kind.
	ErrBadNode = rpc.NewError(202, "logic: bad node")
	// ErrBadRequest is a request missing a required field.
	ErrBadRequest = rpc.NewError(203, "logic: bad request")
)
