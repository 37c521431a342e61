package comet

import (
	"errors"
	"fmt"
	"math"

	"github.com/goimx/goim/protocol"
)

// ErrBadBatch is returned by BroadcastRoom for a batch that is not whole
// client packets back to back; nothing of it is written to any client, and
// it is counted in Stats.BadBatches.
var ErrBadBatch = errors.New("comet: malformed room batch")

// checkBatch checks that batch is client packets back to back, each with
// a valid header and a body that ends inside the batch, the last ending
// with it: the framing every client relies on. Bodies are not limited: a
// pushed message may be bigger than what clients may send.
func checkBatch(batch []byte) error {
	for b := batch; len(b) > 0; {
		_, rest, err := protocol.NextPacket(b, math.MaxInt32)
		if err != nil {
			return fmt.Errorf("%w: packet at byte %d: %w", ErrBadBatch, len(batch)-len(b), err)
		}
		b = rest
	}
	return nil
}
