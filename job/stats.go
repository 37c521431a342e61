package job

import (
	"slices"
	"strings"
	"sync/atomic"

	"github.com/goimx/goim/rpc"
)

// Stats are a Job's counters since New, and its current rooms and comets.
//
// Deliveries and drops are counted per comet: a room batch of 5 messages
// that reaches 3 comets counts 3 requests and 15 delivered messages; the same
// batch dropped by one full queue counts 5 in DroppedQueueFull.
type Stats struct {
	PushKeys uint64 // accepted pushes to keys
	PushRoom uint64 // accepted pushes to a room
	PushAll  uint64 // accepted broadcasts

	RejectedClosed       uint64 // pushes refused because the job is shutting down
	RejectedBad          uint64 // pushes refused as malformed (no room, no keys, unknown type)
	RejectedUnknownComet uint64 // pushes to keys on a comet the job does not know
	RejectedUnreachable  uint64 // pushes to keys on a comet the job has no live link to

	Batches     uint64 // room batches encoded (each fanned out to every comet)
	BatchedMsgs uint64 // room messages in those batches

	// Delivered counts requests handed to a comet without error, and
	// DeliveredMsgs the messages in them. Over the RPC, pushes are one-way:
	// a request the comet reports afterwards that it failed to handle
	// moves from these counters to DroppedSendError (a moment after the
	// report), so both links end with the same counts.
	Delivered     uint64
	DeliveredMsgs uint64

	DroppedQueueFull uint64 // messages not queued: the comet's queue was full
	DroppedSendError uint64 // messages whose request to the comet failed, at once or reported later by the comet
	DroppedNoComet   uint64 // room and broadcast messages with no comet to go to
	DroppedCometGone uint64 // messages queued to a comet that left the cluster
	DroppedShutdown  uint64 // messages still queued when the job closed

	Rooms  int          // rooms with state (a pending batch, one in flight or recent traffic)
	Comets []CometStats // the comets the job fans out to, by ID
}

// Dropped returns the sum of the dropped counters.
func (s Stats) Dropped() uint64 {
	return s.DroppedQueueFull + s.DroppedSendError + s.DroppedNoComet +
		s.DroppedCometGone + s.DroppedShutdown
}

// CometStats describes one comet's worker.
type CometStats struct {
	ID        string
	Addr      string
	Queued    int    // requests waiting in the queue now
	Delivered uint64 // requests handed to the comet without error
	Dropped   uint64 // messages dropped for this comet (full queue, send error, comet gone, shutdown)
}

// counters are the atomic counters behind Stats.
type counters struct {
	pushKeys, pushRoom, pushAll                  atomic.Uint64
	rejectedClosed, rejectedBad, rejectedUnknown atomic.Uint64
	batches, batchedMsgs                         atomic.Uint64
	delivered, deliveredMsgs                     atomic.Uint64
	droppedFull, droppedSend, droppedNoComet     atomic.Uint64
	droppedGone, droppedShutdown                 atomic.Uint64
	rejectedUnreachable                          atomic.Uint64
}

// Stats returns the job's counters and its current comets.
func (j *Job) Stats() Stats {
	c := &j.stats
	s := Stats{
		PushKeys:             c.pushKeys.Load(),
		PushRoom:             c.pushRoom.Load(),
		PushAll:              c.pushAll.Load(),
		RejectedClosed:       c.rejectedClosed.Load(),
		RejectedBad:          c.rejectedBad.Load(),
		RejectedUnknownComet: c.rejectedUnknown.Load(),
		RejectedUnreachable:  c.rejectedUnreachable.Load(),
		Batches:              c.batches.Load(),
		BatchedMsgs:          c.batchedMsgs.Load(),
		Delivered:            c.delivered.Load(),
		DeliveredMsgs:        c.deliveredMsgs.Load(),
		DroppedQueueFull:     c.droppedFull.Load(),
		DroppedSendError:     c.droppedSend.Load(),
		DroppedNoComet:       c.droppedNoComet.Load(),
		DroppedCometGone:     c.droppedGone.Load(),
		DroppedShutdown:      c.droppedShutdown.Load(),
		Rooms:                j.rooms.count(),
	}
	for _, w := range j.comets.Load().list {
		s.Comets = append(s.Comets, w.stats())
	}
	slices.SortFunc(s.Comets, func(a, b CometStats) int { return strings.Compare(a.ID, b.ID) })
	return s
}

// RPCStats returns the counters of the job's RPC server (connections,
// failed handshakes, refused and idle connections).
func (j *Job) RPCStats() rpc.ServerStats { return j.srv.Stats() }
