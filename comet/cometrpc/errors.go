package cometrpc

import (
	"encoding/binary"

	"github.com/goimx/goim/rpc"
)

// Errors of the comet service. They keep their identity over the RPC:
// errors.Is matches them in a caller's error whether the comet is called in
// process or through Client (where a push's error comes back to the
// PushErrorReporter, pushes being one-way).
var (
	// ErrServerClosed is returned by a comet's Serve methods after
	// Shutdown or Close, and by pushes once the comet is stopping.
	ErrServerClosed = rpc.NewError(100, "comet: server closed")
	// ErrEmptyPush is returned for a room push that names no room or
	// carries no bytes.
	ErrEmptyPush = rpc.NewError(101, "comet: empty push")
)

// PushErrorReporter is implemented by a Service whose pushes can fail
// after they returned: Client's pushes are one-way messages, so a comet's
// failure to handle one comes back later. OnPushError sets fn to be called
// for each such failure, with the number of client messages the push
// carried (1 for PushKeys and Broadcast, the packets of a BroadcastRoom
// batch) and the error (matching the comet's sentinel with errors.Is). fn
// runs on the connection's read goroutine and must not block. Set it
// before the first push.
type PushErrorReporter interface {
	OnPushError(fn func(msgs uint64, err error))
}

// packetLenSize is the size of a client packet's leading length field,
// which counts the whole packet.
const packetLenSize = 4

// countPackets returns the number of client packets in batch (packets
// back to back), counting a malformed tail as one.
func countPackets(batch []byte) uint32 {
	var n uint32
	for len(batch) > 0 {
		n++
		if len(batch) < packetLenSize {
			break
		}
		l := binary.BigEndian.Uint32(batch)
		if l < packetLenSize || uint64(l) > uint64(len(batch)) {
			break
		}
		batch = batch[l:]
	}
	return n
}
