package comet

import (
	"encoding/binary"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// A message is one pushed message or room batch, encoded once and shared,
// read-only, by every connection it goes to (and freed by the garbage
// collector once the last writer is done with it). Its bytes are a whole
// WebSocket binary frame whose payload is an OpRaw packet whose body is
// the pushed packets:
//
//	ws frame header | OpRaw header (16) | packet | packet | ... [| stamp (8)]
//
// A WebSocket connection writes all of it; a TCP connection writes the
// packets alone, the suffix from tcpOffset. Neither copies or re-encodes.
// The stamp lies past the message's length, in its capacity: it is never
// written, only read by the writer for the end-to-end latency
// (sealMessage, messageStamp).

// encodePush returns the message carrying one packet {op, body}, accepted
// by logic at stamp.
func encodePush(op int32, body []byte, stamp int64) []byte {
	b := newMessage(protocol.HeaderLen + len(body))
	return sealMessage(protocol.AppendPush(b, op, body), stamp)
}

// encodeBatch returns the message carrying batch, packets back to back,
// whose oldest message logic accepted at stamp.
func encodeBatch(batch []byte, stamp int64) []byte {
	b := newMessage(len(batch))
	return sealMessage(append(b, batch...), stamp)
}

// stampLen is the size of the stamp a message carries past its end.
const stampLen = 8

// sealMessage appends stamp (Unix nanoseconds, 0: unknown) past the end
// of message b, in the capacity newMessage left for it, and returns b:
// the stamp travels with the message to every connection's writer, with
// no allocation or field of its own (messageStamp reads it back). Every
// message pushed to a connection is sealed; none is appended to after.
func sealMessage(b []byte, stamp int64) []byte {
	n := len(b)
	b = binary.LittleEndian.AppendUint64(b, uint64(stamp))
	return b[: n : n+stampLen]
}

// messageStamp returns the stamp of a sealed message, or of a suffix of
// one (a TCP connection writes msg[tcpOffset(msg):]): the capacity of
// any suffix ends where the stamp does.
func messageStamp(msg []byte) int64 {
	full := msg[:cap(msg)]
	return int64(binary.LittleEndian.Uint64(full[len(full)-stampLen:]))
}

// newMessage returns a buffer holding the frame and OpRaw headers for
// packetsLen bytes of packets, with capacity for exactly those packets
// and the stamp.
func newMessage(packetsLen int) []byte {
	payload := protocol.HeaderLen + packetsLen
	b := make([]byte, 0, frameHeaderLen(payload)+payload+stampLen)
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
