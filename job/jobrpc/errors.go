package jobrpc

import "github.com/goimx/goim/rpc"

// Errors of the job service. They keep their identity over the RPC:
// errors.Is matches them in a caller's error whether the job is called in
// process or through Client.
var (
	// ErrServerClosed is returned by a job's Serve after Shutdown or Close,
	// and by Push once the job is shutting down.
	ErrServerClosed = rpc.NewError(300, "job: server closed")
	// ErrBadPush is returned for a push without room, without keys, or of
	// an unknown type.
	ErrBadPush = rpc.NewError(301, "job: bad push")
	// ErrUnknownComet is returned for a push to keys on a comet that is not
	// in logic's registry.
	ErrUnknownComet = rpc.NewError(302, "job: unknown comet")
	// ErrCometUnreachable is returned for a push to keys on a comet the
	// job has no live link to (the comet died or cannot be dialled): the
	// push cannot reach those keys, and the caller must not count them
	// as delivered.
	ErrCometUnreachable = rpc.NewError(303, "job: comet unreachable")
)
