package comet

import "time"

// queueStamp returns the stamp of q's oldest message (see sealMessage),
// or 0 when q is empty.
func queueStamp(q *sendQueue) int64 {
	if len(q.msgs) == 0 {
		return 0
	}
	return messageStamp(q.msgs[0])
}

// observeLatency records in Stats.PushLatency the end-to-end latency of a
// message logic accepted at stamp and whose write to a client socket has
// just returned; a stamp of 0 (unknown) is not recorded. It is called
// once per completed send-queue write, not per message.
func (cm *Comet) observeLatency(stamp int64) {
	if stamp != 0 {
		cm.latency.Observe(time.Now().UnixNano() - stamp)
	}
}
