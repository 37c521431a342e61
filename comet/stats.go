package comet

import (
	"github.com/goimx/goim/metrics"
	"github.com/goimx/goim/rpc"
)

// Stats is a snapshot of a comet's counters.
type Stats struct {
	Conns    int // authenticated connections now
	TCPConns int // of which TCP (plain or TLS)
	WSConns  int // of which WebSocket (plain or TLS)
	Rooms    int // distinct rooms with a connection
	IPs      int // distinct remote IPs of the connections

	Accepted   uint64 // connections accepted since New
	Pushes     uint64 // push requests served (PushKeys, BroadcastRoom, Broadcast)
	Enqueued   uint64 // messages put on connection send queues
	KeyMisses  uint64 // PushKeys keys not held by this comet
	BadBatches uint64 // BroadcastRoom batches refused as malformed (ErrBadBatch), written to no client
	// QueuePeak is the most one connection's send queue held since New,
	// counted as Config.SendQueueBytes counts it, among queues that held
	// two messages or more: how close the busiest connection came to the
	// bound.
	QueuePeak int64

	// Reported is whether the last report to logic succeeded: logic lists
	// this comet (unless it reports itself offline). False before the
	// first report and while reports fail.
	Reported bool

	// PushLatency is the end-to-end push latency in nanoseconds: from
	// logic accepting a push (jobrpc.PushMsg.Stamp, logic's clock) to the
	// write of a connection's send queue that carried it to the client
	// socket returning (this comet's clock), observed once per completed
	// queue write (writer goroutine or inline flush) with the stamp of the
	// oldest message in it; pushes without a stamp are not observed.
	PushLatency metrics.Snapshot

	Draining bool   // a drain started (Drain); the node reports itself offline
	Drained  uint64 // connections closed by drains (also Closes[CloseDrain])

	Drops  map[DropReason]uint64  // messages not queued, by reason (zero counts left out)
	Closes map[CloseReason]uint64 // closed connections, by reason (zero counts left out)
}

// Stats returns the comet's counters. Counts of connections and rooms are
// read bucket by bucket, not as one atomic snapshot.
func (cm *Comet) Stats() Stats {
	st := Stats{
		TCPConns:    int(cm.tcpConns.Load()),
		WSConns:     int(cm.wsConns.Load()),
		IPs:         cm.ips.count(),
		Accepted:    cm.accepted.Load(),
		Pushes:      cm.pushes.Load(),
		KeyMisses:   cm.keyMisses.Load(),
		BadBatches:  cm.badBatches.Load(),
		Reported:    cm.reported.Load(),
		PushLatency: cm.latency.Snapshot(),
		Drops:       make(map[DropReason]uint64),
		Closes:      make(map[CloseReason]uint64),
	}
	rooms := make(map[string]int32)
	for _, b := range cm.buckets {
		st.Conns += b.count(rooms)
		st.Enqueued += b.enqueued.Load()
		st.QueuePeak = max(st.QueuePeak, b.queuePeak.Load())
		for r := range b.drops {
			if n := b.drops[r].Load(); n > 0 {
				st.Drops[DropReason(r)] += n
			}
		}
	}
	st.Rooms = len(rooms)
	st.Draining = cm.draining.Load()
	st.Drained = cm.closes[CloseDrain].Load()
	for r := range cm.closes {
		if n := cm.closes[r].Load(); n > 0 {
			st.Closes[CloseReason(r)] = n
		}
	}
	return st
}

// RPCStats returns the counters of the comet's RPC server (connections,
// failed handshakes, refused and idle connections).
func (cm *Comet) RPCStats() rpc.ServerStats { return cm.rpc.Stats() }
