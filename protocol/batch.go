package protocol

import (
	"encoding/binary"
	"fmt"
	"iter"
)

// heartbeatReplyLen is the packLen of a heartbeat reply: a header and the
// 4-byte online count.
const heartbeatReplyLen = HeaderLen + 4

// AppendHeartbeatReply appends the reply to a heartbeat with sequence
// number seq: {ver Version, op OpHeartbeatReply, seq, body: online as a
// big-endian int32}.
func AppendHeartbeatReply(b []byte, seq int32, online int32) []byte {
	b = appendHeader(b, heartbeatReplyLen, Version, OpHeartbeatReply, seq)
	return binary.BigEndian.AppendUint32(b, uint32(online))
}

// AppendPush appends the packet {ver Version, op, seq 0, body} that carries
// one pushed message: the unit written to a TCP connection and the entry of
// a batch. Building a batch body is repeated AppendPush.
func AppendPush(b []byte, op int32, body []byte) []byte {
	return AppendPushSeq(b, op, 0, body)
}

// AppendPushSeq is AppendPush with sequence number seq in the header: a
// room message carries its room sequence number there.
func AppendPushSeq(b []byte, op int32, seq uint32, body []byte) []byte {
	b = appendHeader(b, HeaderLen+len(body), Version, op, int32(seq))
	return append(b, body...)
}

// AppendRawHeader appends the header of the outer OpRaw packet that frames
// a WebSocket batch: {ver Version, op OpRaw, seq 0} with a body of bodyLen
// bytes (the inner packets, written after it by the caller). bodyLen must
// be at least 0 and at most math.MaxInt32-HeaderLen.
func AppendRawHeader(b []byte, bodyLen int) []byte {
	return appendHeader(b, HeaderLen+bodyLen, Version, OpRaw, 0)
}

// NextPacket decodes the first packet of b, a batch body (packets back to
// back), and returns it with the bytes after it. maxBody is the limit for
// each packet's body; zero or negative means DefaultMaxBody. p.Body aliases
// b (its capacity ends with the packet, so appending to it copies).
//
// An empty b, or one that ends inside a header or body, yields an error
// wrapping ErrTruncated; a bad header one wrapping ErrPacketLen,
// ErrBodyTooLarge or ErrHeaderLen. Callers loop while len(rest) > 0.
func NextPacket(b []byte, maxBody int) (p Packet, rest []byte, err error) {
	if len(b) < HeaderLen {
		return Packet{}, b, fmt.Errorf("%w: %d bytes left, header needs %d", ErrTruncated, len(b), HeaderLen)
	}
	bodyLen, err := p.parseHeader(b[:HeaderLen], maxBody)
	if err != nil {
		return Packet{}, b, err
	}
	end := HeaderLen + bodyLen
	if end > len(b) {
		return Packet{}, b, fmt.Errorf("%w: packet of %d bytes, %d left", ErrTruncated, end, len(b))
	}
	if bodyLen > 0 {
		p.Body = b[HeaderLen:end:end]
	}
	return p, b[end:], nil
}

// Packets iterates over the packets of body, a batch body (packets back to
// back), as browser clients do with an OpRaw packet's body. Each packet is
// yielded with a nil error; a malformed or truncated packet is yielded as a
// zero Packet with NextPacket's error and ends the iteration. An empty body
// yields nothing. Bodies alias body.
func Packets(body []byte, maxBody int) iter.Seq2[Packet, error] {
	return func(yield func(Packet, error) bool) {
		for b := body; len(b) > 0; {
			p, rest, err := NextPacket(b, maxBody)
			if !yield(p, err) || err != nil {
				return
			}
			b = rest
		}
	}
}
