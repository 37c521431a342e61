package comet

import (
	"context"
	"encoding/binary"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/protocol"
)

// handle acts on one packet of an authenticated connection and answers
// it. Replies keep the request's ver and seq; like goim's, the change
// room, sub and unsub replies echo the request body. A packet over
// Config.MsgRate, or a change room to a room id over maxRoomLen bytes,
// closes the connection instead.
func (c *conn) handle(p *protocol.Packet) error {
	if !c.allowMsg() {
		return c.refuse(CloseMsgRate)
	}
	switch p.Op {
	case protocol.OpHeartbeat:
		return c.heartbeat(p)
	case protocol.OpChangeRoom:
		if len(p.Body) > maxRoomLen {
			return c.refuse(CloseRoomTooLong)
		}
		c.bucket.changeRoom(c, string(p.Body))
		return c.reply(p, protocol.OpChangeRoomReply, p.Body)
	case protocol.OpJoinRoom:
		return c.joinRoom(p)
	case protocol.OpLeaveRoom:
		return c.leaveRoom(p)
	case protocol.OpSub:
		c.sub(p.Body, true)
		return c.reply(p, protocol.OpSubReply, p.Body)
	case protocol.OpUnsub:
		c.sub(p.Body, false)
		return c.reply(p, protocol.OpUnsubReply, p.Body)
	}
	c.receive(p)
	return c.reply(p, p.Op, nil)
}

// joinRoom adds c to the room named in p's body besides the rooms it is
// in, and answers with a RoomStatus and the room id (docs/protocol.md,
// "Several rooms per connection").
func (c *conn) joinRoom(p *protocol.Packet) error {
	status := protocol.RoomBadID
	if roomIDOK(p.Body) {
		status = c.bucket.join(c, string(p.Body), c.cm.extraRoomLimit())
	}
	return c.roomReply(p, protocol.OpJoinRoomReply, status)
}

// leaveRoom takes c out of the room named in p's body, primary or
// additional, and answers as joinRoom.
func (c *conn) leaveRoom(p *protocol.Packet) error {
	status := protocol.RoomBadID
	if roomIDOK(p.Body) {
		status = c.bucket.leave(c, string(p.Body))
	}
	return c.roomReply(p, protocol.OpLeaveRoomReply, status)
}

// roomIDOK reports whether id may name a room to join or leave.
func roomIDOK(id []byte) bool { return len(id) > 0 && len(id) <= maxRoomLen }

// roomReply answers p with op, status and p's body (the room id).
func (c *conn) roomReply(p *protocol.Packet, op int32, status protocol.RoomStatus) error {
	buf := c.cm.pool.Get(1 + len(p.Body))
	defer c.cm.pool.Put(buf)
	return c.reply(p, op, protocol.AppendRoomReply(buf.Bytes()[:0], status, p.Body))
}

// heartbeat moves the heartbeat deadline, renews the session with logic
// when due, and has the writer goroutine answer with the room's online
// count (with the request's ver, as goim's reply).
//
// It runs on the reader goroutine, which every idle connection keeps: the
// reply is not written here, since the write path (deadline, socket
// write, WebSocket framing, the online count) needs more than the 2 KB
// the reader's stack starts with, and a grown stack would stay with the
// idle connection. The writer goroutine exits after the write and frees
// its stack.
func (c *conn) heartbeat(p *protocol.Packet) error {
	c.timer().Reset(c.th, c.heartbeatTimeout())
	if now := time.Now().UnixNano(); c.cm.cfg.RenewInterval > 0 && now >= c.renewAt {
		c.renewAt = now + int64(c.cm.cfg.RenewInterval)
		c.renew()
	}
	return c.queueHeartbeatReply(p.Ver, p.Seq)
}

// appendHeartbeatReply appends the reply to a heartbeat with ver and seq:
// the online count of c's room.
func (c *conn) appendHeartbeatReply(dst []byte, ver int16, seq int32) []byte {
	var online [4]byte
	binary.BigEndian.PutUint32(online[:], uint32(c.cm.online(c.bucket.roomOf(c))))
	rp := protocol.Packet{Ver: ver, Op: protocol.OpHeartbeatReply, Seq: seq, Body: online[:]}
	return rp.Append(dst)
}

// renew renews c's session with logic.
func (c *conn) renew() {
	ctx := c.cm.calls.get()
	req := logicrpc.HeartbeatReq{Mid: c.mid, Key: c.key, Server: c.cm.cfg.NodeID, ConnID: c.id}
	if err := c.cm.logic.Heartbeat(ctx, &req); err != nil {
		c.cm.logger.Debug("comet: session renewal failed", "conn", c.id, "key", c.key, "err", err)
	}
}

// receive forwards an application message to logic.
func (c *conn) receive(p *protocol.Packet) {
	ctx := c.cm.calls.get()
	req := logicrpc.ReceiveReq{Mid: c.mid, Key: c.key, Op: p.Op, Body: p.Body}
	if err := c.cm.logic.Receive(ctx, &req); err != nil {
		c.cm.logger.Debug("comet: receive to logic failed", "conn", c.id, "op", p.Op, "err", err)
	}
}

// maxAccepts is the most ops a connection's accept set holds (logic
// refuses auth tokens with more): sub ignores ops beyond it, so a client
// cannot grow its set, and the scan of every push filtered by it, without
// bound.
const maxAccepts = 1024

// sub adds (add) or removes the ops listed in body, comma-separated
// decimals, to or from the accept set. A malformed list changes nothing,
// as in goim; ops that would take the set over maxAccepts are ignored.
func (c *conn) sub(body []byte, add bool) {
	ops, ok := parseOps(string(body))
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	accepts := c.accepts
	for _, op := range ops {
		i, found := slices.BinarySearch(accepts, op)
		switch {
		case add && !found && len(accepts) < maxAccepts:
			accepts = slices.Insert(accepts, i, op)
		case !add && found:
			accepts = slices.Delete(accepts, i, i+1)
		}
	}
	c.accepts = accepts
}

// parseOps parses comma-separated decimal int32s ("1000,1001").
func parseOps(s string) ([]int32, bool) {
	if s == "" {
		return nil, true
	}
	var ops []int32
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
		if err != nil {
			return nil, false
		}
		ops = append(ops, int32(n))
	}
	return ops, true
}

// reply answers p with op and body.
func (c *conn) reply(p *protocol.Packet, op int32, body []byte) error {
	rp := protocol.Packet{Ver: p.Ver, Op: op, Seq: p.Seq, Body: body}
	if len(body) == 0 {
		return c.writePacket(rp.Append(c.rbuf[:0]))
	}
	buf := c.cm.pool.Get(protocol.HeaderLen + len(body))
	defer c.cm.pool.Put(buf)
	return c.writePacket(rp.Append(buf.Bytes()[:0]))
}

// logClose writes the one log line of a connection's close, at debug
// level whatever the reason: a busy comet closes connections all the
// time, and Stats.Closes counts them by reason.
func (c *conn) logClose(reason CloseReason, err error) {
	const level = slog.LevelDebug // one line per connection: Stats.Closes counts them all
	ctx := context.Background()
	if !c.cm.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.Uint64("conn", c.id),
		slog.String("remote", c.nc.RemoteAddr().String()),
		slog.String("reason", reason.String()),
	}
	if c.ws != nil {
		attrs = append(attrs, slog.Bool("ws", true))
	}
	if c.key != "" {
		attrs = append(attrs, slog.String("key", c.key), slog.Int64("mid", c.mid))
	}
	if err != nil && reason != CloseClient {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	c.cm.logger.LogAttrs(ctx, level, "comet: connection closed", attrs...)
}
