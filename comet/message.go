package comet

import (
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// A message is one pushed message or room batch, encoded once and shared,
// read-only, by every connection it goes to (and freed by the garbage
// collector once the last writer is done with it). Its bytes are a whole
// WebSocket binary frame whose payload is an OpRaw packet whose body is
// the pushed packets:
//
//	ws frame header | OpRaw header (16) | packet | packet | ...
//
// A WebSocket connection writes all of it; a TCP connection writes the
// packets alone, the suffix from tcpOffset. Neither copies or re-encodes.

// encodePush returns the message carrying one packet {op, body}.
func encodePush(op int32, body []byte) []byte {
	b := newMessage(protocol.HeaderLen + len(body))
	return protocol.AppendPush(b, op, body)
}

// encodeBatch returns the message carrying batch, packets back to back.
func encodeBatch(batch []byte) []byte {
	b := newMessage(len(batch))
	return append(b, batch...)
}

// newMessage returns a buffer holding the frame and OpRaw headers for
// packetsLen bytes of packets, with capacity for exactly those packets.
func newMessage(packetsLen int) []byte {
	payload := protocol.HeaderLen + packetsLen
	b := make([]byte, 0, frameHeaderLen(payload)+payload)
	b = websocket.AppendFrameHeader(b, true, websocket.OpBinary, nil, payload)
	return protocol.AppendRawHeader(b, packetsLen)
}

// frameHeaderLen returns the size of an unmasked frame header for a
// payload of n bytes.
func frameHeaderLen(n int) int {
	switch {
	case n <= 125:
		return 2
	case n <= 0xffff:
		return 4
	}
	return 10
}

// tcpOffset returns where the packets start in message msg.
func tcpOffset(msg []byte) int {
	switch msg[1] & 0x7f {
	case 126:
		return 4 + protocol.HeaderLen
	case 127:
		return 10 + protocol.HeaderLen
	}
	return 2 + protocol.HeaderLen
}
