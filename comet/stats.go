package comet

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

	Draining bool   // a drain started (Drain); the node reports itself offline
	Drained  uint64 // connections closed by drains (also Closes[CloseDrain])

	Drops  map[DropReason]uint64  // messages not queued, by reason (zero counts left out)
	Closes map[CloseReason]uint64 // closed connections, by reason (zero counts left out)
}

// Stats returns the comet's counters. Counts of connections and rooms are
// read bucket by bucket, not as one atomic snapshot.
func (cm *Comet) Stats() Stats {
	st := Stats{
		TCPConns:   int(cm.tcpConns.Load()),
		WSConns:    int(cm.wsConns.Load()),
		IPs:        cm.ips.count(),
		Accepted:   cm.accepted.Load(),
		Pushes:     cm.pushes.Load(),
		KeyMisses:  cm.keyMisses.Load(),
		BadBatches: cm.badBatches.Load(),
		Drops:      make(map[DropReason]uint64),
		Closes:     make(map[CloseReason]uint64),
	}
	rooms := make(map[string]int32)
	for _, b := range cm.buckets {
		st.Conns += b.count(rooms)
		st.Enqueued += b.enqueued.Load()
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
