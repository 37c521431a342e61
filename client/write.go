package client

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// Heartbeat sends a heartbeat (op 2, empty body). The server answers with
// op 3 carrying the room's online count (see OnlineCount), which arrives
// through Read. It allocates nothing.
func (c *Conn) Heartbeat() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.writeLocked(protocol.OpHeartbeat, nil)
	return err
}

// ChangeRoom asks to move to room ("type://id"); an empty room leaves the
// current one. The server answers with op 13.
func (c *Conn) ChangeRoom(room string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.bbuf = append(c.bbuf[:0], room...)
	_, err := c.writeLocked(protocol.OpChangeRoom, c.bbuf)
	return err
}

// JoinRoom asks to join room besides the rooms the connection is in
// (op 20). The server answers with op 21, whose status (see RoomReply)
// says whether it did; room pushes to room then arrive through Read. Not
// part of goim's protocol: a goim server takes it for an application
// message.
func (c *Conn) JoinRoom(room string) error {
	return c.roomOp(protocol.OpJoinRoom, room)
}

// LeaveRoom asks to leave room, the primary room or one joined (op 22).
// The server answers with op 23 (see RoomReply).
func (c *Conn) LeaveRoom(room string) error {
	return c.roomOp(protocol.OpLeaveRoom, room)
}

// roomOp sends op with room as its body.
func (c *Conn) roomOp(op int32, room string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.bbuf = append(c.bbuf[:0], room...)
	_, err := c.writeLocked(op, c.bbuf)
	return err
}

// Sub adds ops to the operations this connection accepts in pushes by key,
// mid or broadcast. The server answers with op 15.
func (c *Conn) Sub(ops ...int32) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.bbuf = appendOps(c.bbuf[:0], ops)
	_, err := c.writeLocked(protocol.OpSub, c.bbuf)
	return err
}

// Unsub removes ops from the operations this connection accepts. The
// server answers with op 17.
func (c *Conn) Unsub(ops ...int32) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.bbuf = appendOps(c.bbuf[:0], ops)
	_, err := c.writeLocked(protocol.OpUnsub, c.bbuf)
	return err
}

// Send sends a packet with operation op and body, and returns the
// sequence number it carries. Use it for application messages (any op
// without a meaning in the protocol, or protocol.OpSendMsg), which the
// server forwards to logic and acknowledges with the same op and seq and an
// empty body; it sends any op as is. body is not retained. A body larger
// than Config.MaxBody is refused with an error wrapping
// protocol.ErrBodyTooLarge and nothing is sent.
func (c *Conn) Send(op int32, body []byte) (seq int32, err error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(op, body)
}

// appendOps appends ops to b as comma-separated decimals ("1000,1001").
func appendOps(b []byte, ops []int32) []byte {
	for i, op := range ops {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(op), 10)
	}
	return b
}

// writeLocked encodes the packet {ver 1, op, next seq, body} and writes it
// whole, within the write timeout. A failed write is sticky: the stream may
// hold part of a packet, so every later write returns the same error.
// Sequence numbers run from 1 and skip 0, which marks pushes. c.wmu must
// be held.
func (c *Conn) writeLocked(op int32, body []byte) (int32, error) {
	if c.closed.Load() {
		return 0, ErrClosed
	}
	if c.werr != nil {
		return 0, c.werr
	}
	if len(body) > c.maxBody {
		return 0, fmt.Errorf("client: send op %d: %w: %d bytes, limit %d", op, protocol.ErrBodyTooLarge, len(body), c.maxBody)
	}
	c.seq++
	if c.seq == 0 {
		c.seq = 1
	}
	p := protocol.Packet{Ver: protocol.Version, Op: op, Seq: c.seq, Body: body}
	err := c.writePacketLocked(&p)
	if cap(c.wbuf) > keepBuf {
		c.wbuf = nil
	}
	if cap(c.bbuf) > keepBuf {
		c.bbuf = nil
	}
	if err != nil {
		if c.closed.Load() {
			return 0, ErrClosed
		}
		c.werr = fmt.Errorf("client: write: %w", err)
		return 0, c.werr
	}
	return c.seq, nil
}

// writePacketLocked encodes p into c.wbuf and writes it: as is on TCP, as
// one masked binary frame on WebSocket (framed and masked here, in the same
// buffer, so the packet is copied once). The write deadline is set for it
// and cleared after, so that the WebSocket's own control replies are not cut
// by a stale one. c.wmu must be held.
func (c *Conn) writePacketLocked(p *protocol.Packet) error {
	if c.ws != nil {
		key := maskKey()
		c.wbuf = websocket.AppendFrameHeader(c.wbuf[:0], true, websocket.OpBinary, &key, headerLen+len(p.Body))
		start := len(c.wbuf)
		c.wbuf = p.Append(c.wbuf)
		websocket.Mask(key, 0, c.wbuf[start:])
	} else {
		c.wbuf = p.Append(c.wbuf[:0])
	}
	if c.writeTimeout > 0 {
		if err := c.nc.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
			return err
		}
		defer c.nc.SetWriteDeadline(time.Time{})
	}
	if c.ws != nil {
		return c.ws.WritePreparedFrame(c.wbuf)
	}
	_, err := c.nc.Write(c.wbuf)
	return err
}

// maskKey returns a fresh WebSocket masking key from the runtime's
// unpredictable generator, without allocating.
func maskKey() [4]byte {
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], rand.Uint32())
	return k
}
