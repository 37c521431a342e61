package client

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// headerLen is the packet header length.
const headerLen = protocol.HeaderLen

// header is a decoded, validated packet header.
type header struct {
	op      int32
	seq     int32
	bodyLen int
}

// parseHeader decodes the headerLen bytes of hdr. It checks packLen and
// headerLen but not the body limit, which depends on whether the packet is
// a TCP batch (read as a stream, no limit) or not.
func parseHeader(hdr []byte) (header, error) {
	_ = hdr[headerLen-1]
	packLen := int32(binary.BigEndian.Uint32(hdr[0:]))
	if packLen < headerLen {
		return header{}, fmt.Errorf("%w: %d", protocol.ErrPacketLen, packLen)
	}
	if hl := int16(binary.BigEndian.Uint16(hdr[4:])); hl != headerLen {
		return header{}, fmt.Errorf("%w: %d", protocol.ErrHeaderLen, hl)
	}
	return header{
		op:      int32(binary.BigEndian.Uint32(hdr[8:])),
		seq:     int32(binary.BigEndian.Uint32(hdr[12:])),
		bodyLen: int(packLen) - headerLen,
	}, nil
}

// readTCP returns the next packet of the TCP stream. An op-9 packet met
// between packets opens a batch: its header is consumed and the packets of
// its body are then read from the stream like any other, so a batch needs
// no buffer of its own and has no size limit; each inner packet must end
// within it. Packets inside a batch are returned as they are, op 9
// included (batches do not nest).
func (c *Conn) readTCP() (Message, error) {
	for {
		hdr, err := c.rd.Peek(headerLen)
		if err != nil {
			if err == io.EOF && (len(hdr) > 0 || c.rawLeft > 0) {
				err = io.ErrUnexpectedEOF
			}
			return Message{}, err
		}
		h, err := parseHeader(hdr)
		if err != nil {
			return Message{}, err
		}
		if h.op == protocol.OpRaw && c.rawLeft == 0 {
			_, _ = c.rd.Pop(headerLen) // already buffered by Peek: cannot fail
			c.rawLeft = h.bodyLen
			continue
		}
		if h.bodyLen > c.maxBody {
			return Message{}, fmt.Errorf("%w: op %d with %d bytes, limit %d", protocol.ErrBodyTooLarge, h.op, h.bodyLen, c.maxBody)
		}
		n := headerLen + h.bodyLen
		if c.rawLeft > 0 {
			if n > c.rawLeft {
				return Message{}, fmt.Errorf("%w: packet of %d bytes, %d left in batch", protocol.ErrTruncated, n, c.rawLeft)
			}
			c.rawLeft -= n
		}
		pkt, err := c.rd.Pop(n)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Message{}, err
		}
		m := Message{Op: h.op, Seq: h.seq}
		if h.bodyLen > 0 {
			m.Body = pkt[headerLen:]
		}
		return m, nil
	}
}

// readWS returns the next packet from the WebSocket: the next inner packet
// of the current op-9 batch, or else the packet of the next message (each
// binary message holds one packet; an op-9 one is unpacked). Empty batches
// are skipped.
func (c *Conn) readWS() (Message, error) {
	for len(c.batch) == 0 {
		if cap(c.msg) > keepBuf {
			c.msg = nil
		}
		op, msg, err := c.ws.ReadMessage(c.msg[:0])
		if msg != nil {
			c.msg = msg[:0]
		}
		if err != nil {
			return Message{}, err
		}
		if op != websocket.OpBinary {
			return Message{}, fmt.Errorf("%w: %s", ErrNotBinary, op)
		}
		m, batch, err := c.decodeMessage(msg)
		if err != nil || !batch {
			return m, err
		}
	}
	return c.nextInBatch()
}

// decodeMessage decodes msg, one WebSocket message. An op-9 packet becomes
// the current batch (batch is true, m is zero); any other packet is
// returned as m.
func (c *Conn) decodeMessage(msg []byte) (m Message, batch bool, err error) {
	var p protocol.Packet
	if err := p.Decode(msg, c.maxMessage-headerLen); err != nil {
		return Message{}, false, err
	}
	if p.Op == protocol.OpRaw {
		c.batch = p.Body
		return Message{}, true, nil
	}
	if len(p.Body) > c.maxBody {
		return Message{}, false, fmt.Errorf("%w: op %d with %d bytes, limit %d", protocol.ErrBodyTooLarge, p.Op, len(p.Body), c.maxBody)
	}
	return Message{Op: p.Op, Seq: p.Seq, Body: p.Body}, false, nil
}

// nextInBatch returns the next inner packet of the current batch.
func (c *Conn) nextInBatch() (Message, error) {
	p, rest, err := protocol.NextPacket(c.batch, c.maxBody)
	if err != nil {
		c.batch = nil
		return Message{}, err
	}
	c.batch = rest
	return Message{Op: p.Op, Seq: p.Seq, Body: p.Body}, nil
}
