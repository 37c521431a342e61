package comet

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/protocol"
)

// resumeState is a connection resuming its room: from joining the room
// until the room's history is written and the live messages it repeats
// are skipped (docs/protocol.md, "Room sequence numbers and resume").
//
// It joins the room before asking for the history, so no message falls
// between the two: a message the job numbered after the history answer
// reaches the room after the join. Until the answer comes, the room's
// live messages are held aside (held); then those, and the live messages
// after, lose their packets numbered up to the history's last (they were
// in the history) until one numbered after it arrives, which ends the
// resume. A room's messages reach the connection in order, from one room
// worker, so the first packet after the history's last is the end.
type resumeState struct {
	room string // the room resumed

	// These fields are guarded by conn.mu.
	known     bool     // the history's answer came: last holds
	last      uint32   // sequence number of the history's last message
	held      [][]byte // live messages of room (whole messages) before the answer
	heldBytes int      // what held costs, bounded by Config.SendQueueBytes
}

// authResume is the body of the auth reply to a client that resumes.
type authResume struct {
	RoomID    string `json:"room_id"`
	RoomEpoch uint32 `json:"room_epoch"`
	RoomSeq   uint32 `json:"room_seq"`
	Resumed   bool   `json:"resumed"`
}

// startResume marks c as resuming room: its live messages are held until
// finishResume.
func (c *conn) startResume(room string) *resumeState {
	rs := &resumeState{room: room}
	c.resume.Store(rs)
	return rs
}

// resumeRoom asks logic for the messages c missed in its room, answers
// the auth packet p with the outcome, writes the missed messages and
// lets the held and later live ones follow. The writer is held.
func (c *conn) resumeRoom(rs *resumeState, rep *logicrpc.ConnectReply, p *protocol.Packet) error {
	res, err := c.fetchHistory(rs.room, rep.RoomEpoch, rep.RoomSeq)
	if err != nil {
		c.cm.logger.Debug("comet: resume failed", "conn", c.id, "room", rs.room, "err", err)
		res = &logicrpc.ResumeReply{} // not resumed: the client refetches
	}
	resumed := res.Complete && res.Epoch == rep.RoomEpoch && rep.RoomEpoch != 0
	body, err := json.Marshal(authResume{RoomID: rs.room, RoomEpoch: res.Epoch, RoomSeq: res.Last, Resumed: resumed})
	if err != nil {
		return fmt.Errorf("comet: auth reply: %w", err)
	}
	reply := (&protocol.Packet{Ver: p.Ver, Op: protocol.OpAuthReply, Seq: p.Seq, Body: body}).Append(nil)
	if err := c.writePacket(reply); err != nil {
		return err
	}
	if resumed && len(res.Packets) > 0 {
		if err := c.writePackets(res.Packets); err != nil {
			return err
		}
	}
	c.finishResume(rs, res.Epoch != 0, res.Last)
	c.releaseWriter()
	return nil
}

// fetchHistory asks logic for the messages of room after seq of epoch.
func (c *conn) fetchHistory(room string, epoch, seq uint32) (*logicrpc.ResumeReply, error) {
	rs, ok := c.cm.logic.(logicrpc.ResumeService)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	ctx := c.cm.calls.get()
	return rs.Resume(ctx, &logicrpc.ResumeReq{Room: room, Epoch: epoch, After: seq})
}

// writePackets writes pkts, client packets back to back: as they are on
// TCP, as one binary frame holding an OpRaw packet on WebSocket.
func (c *conn) writePackets(pkts []byte) error {
	if c.ws == nil {
		return c.writePacket(pkts)
	}
	b := protocol.AppendRawHeader(make([]byte, 0, protocol.HeaderLen+len(pkts)), len(pkts))
	return c.writePacket(append(b, pkts...))
}

// finishResume queues the held messages after the history: with skip,
// without their packets numbered up to last, and so the live messages
// after them until one numbered after last arrives. Without skip (the
// history is unknown) every held message goes as it is and the resume
// ends. The writer is held, so nothing is written before the history.
func (c *conn) finishResume(rs *resumeState, skip bool, last uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rs.known, rs.last = true, last
	done := !skip
	for _, msg := range rs.held {
		if !done {
			msg, done = cutThrough(msg, last)
			if msg == nil {
				continue
			}
		}
		c.enqueueLocked(msg)
	}
	rs.held, rs.heldBytes = nil, 0
	if done {
		c.resume.Store(nil)
	}
}

// enqueueLocked appends msg (a whole message) to c's queue, the writer
// being held. c.mu must be held.
func (c *conn) enqueueLocked(msg []byte) {
	if c.closed {
		c.home().drops[DropClosed].Add(1)
		return
	}
	if c.ws == nil {
		msg = msg[tcpOffset(msg):]
	}
	if c.queue == nil {
		c.queue = c.cm.getQueue()
	}
	c.queue.msgs = append(c.queue.msgs, msg)
	c.queued += int32(queueCost(msg))
}

// pushRoom offers msg, a message of room id, to c (push without op
// filter, writing inline when it can), through the resume filter while
// c resumes id.
func (c *conn) pushRoom(id string, msg []byte) pushResult {
	if rs := c.resume.Load(); rs != nil && rs.room == id {
		var res pushResult
		if msg, res = c.resumeFilter(rs, msg); msg == nil {
			return res
		}
	}
	return c.push(msg, 0, false, true)
}

// resumeFilter holds msg while the history is unknown (returning nil and
// pushQueued, or pushQueueFull when the held messages would pass
// Config.SendQueueBytes) and afterwards cuts its packets the history
// held (nil and pushFiltered when none is left).
func (c *conn) resumeFilter(rs *resumeState, msg []byte) ([]byte, pushResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.resume.Load() != rs {
		return msg, pushQueued // finished meanwhile
	}
	if !rs.known {
		cost := queueCost(msg)
		if rs.heldBytes+cost > c.cm.cfg.SendQueueBytes {
			return nil, pushQueueFull
		}
		rs.held = append(rs.held, msg)
		rs.heldBytes += cost
		return nil, pushQueued
	}
	msg, done := cutThrough(msg, rs.last)
	if done {
		c.resume.Store(nil)
	}
	if msg == nil {
		return nil, pushFiltered
	}
	return msg, pushQueued
}

// cutThrough returns msg without its packets numbered up to last, and
// whether a packet numbered after last was found (which ends a resume).
// It returns msg itself when its first packet is after last, nil when
// none is, and else a new message holding the packets after last.
func cutThrough(msg []byte, last uint32) ([]byte, bool) {
	pkts := msg[tcpOffset(msg):]
	for off := 0; off+protocol.HeaderLen <= len(pkts); {
		n := int(binary.BigEndian.Uint32(pkts[off:]))
		if n < protocol.HeaderLen || off+n > len(pkts) {
			return msg, true // not a batch of ours: leave it whole
		}
		if seq := binary.BigEndian.Uint32(pkts[off+12:]); seq > last {
			if off == 0 {
				return msg, true
			}
			return encodeBatch(pkts[off:], messageStamp(msg)), true
		}
		off += n
	}
	return nil, false
}
