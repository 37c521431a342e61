// Package protocol encodes and decodes the client packet of goim's wire
// protocol (PROTOCOL.md), byte for byte.
//
// A packet is a 16-byte big-endian header followed by a body:
//
//	packLen int32 | headerLen int16 (=16) | ver int16 | op int32 | seq int32 | body
//
// Codecs are pure functions over caller-owned buffers: encoders append to a
// slice or write a header in place into a buffered writer, decoders return a
// Packet whose Body aliases the input (no copy, no allocation). A decoded Body
// is valid only as long as the bytes it was decoded from.
package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// HeaderLen is the length of a packet header in bytes; the headerLen field
// of every valid packet holds this value.
const HeaderLen = 16

// DefaultMaxBody is the body limit, in bytes, used wherever a maxBody
// argument is zero or negative.
const DefaultMaxBody = 4096

// Version is the protocol version the server sends (clients send 1 too).
const Version int16 = 1

// Header field offsets.
const (
	packLenOff   = 0
	headerLenOff = 4
	verOff       = 6
	opOff        = 8
	seqOff       = 12
)

// Errors returned by the decoders, wrapped with detail; check them with
// errors.Is.
var (
	// ErrPacketLen reports a packLen that is negative, smaller than
	// HeaderLen, or that disagrees with the length of a WebSocket message.
	ErrPacketLen = errors.New("protocol: bad packet length")
	// ErrHeaderLen reports a headerLen other than HeaderLen.
	ErrHeaderLen = errors.New("protocol: bad header length")
	// ErrBodyTooLarge reports a packLen larger than HeaderLen + maxBody.
	ErrBodyTooLarge = errors.New("protocol: body too large")
	// ErrTruncated reports a batch that ends inside a packet's header or
	// body (NextPacket, Packets).
	ErrTruncated = errors.New("protocol: truncated packet")
)

// Packet is one protocol packet. Ver is the version chosen by the sender,
// Op the operation, Seq the sequence number (a reply carries its request's
// Seq) and Body the payload. After a decode, Body aliases the decoded bytes
// and is nil when the body is empty.
type Packet struct {
	Ver  int16
	Op   int32
	Seq  int32
	Body []byte
}

// Reader is the buffered reader Packet.ReadFrom reads from; *bufio.Reader of
// this module satisfies it, and so does the comet's connection, which
// relies on the call pattern ReadFrom guarantees: per packet, one Pop of
// HeaderLen bytes, then, only for a non-empty body whose header is valid,
// exactly one Pop of the body's length (so an implementation may tell the
// header from the body by the order of the calls).
type Reader interface {
	// Pop returns the next n bytes of the reader's buffer and consumes them.
	// The slice is valid until the next call on the reader. At the end of
	// the stream it returns io.EOF when no byte of the n was read and
	// io.ErrUnexpectedEOF when some were (io.ReadFull's convention).
	Pop(n int) ([]byte, error)
}

// Append appends p's encoding (header and body) to b and returns the
// extended slice. The header's packLen is HeaderLen+len(p.Body); the caller
// keeps len(p.Body) within the receiver's limit. It allocates only when b
// lacks capacity.
func (p *Packet) Append(b []byte) []byte {
	b = appendHeader(b, HeaderLen+len(p.Body), p.Ver, p.Op, p.Seq)
	return append(b, p.Body...)
}

// ReadFrom reads one packet from the stream r. maxBody is the body limit;
// zero or negative means DefaultMaxBody. It calls r.Pop once for the
// header (HeaderLen bytes) and, when the header is valid and announces a
// body, once more for the whole body, never otherwise: readers rely on
// this (see Reader). The reader's buffer must so hold at least
// max(HeaderLen, maxBody) bytes; a body that does not fit fails with the
// reader's error (bufio.ErrBufferFull).
//
// p.Body aliases r's buffer: it is valid only until the next read from r.
// A malformed header yields an error wrapping ErrPacketLen, ErrBodyTooLarge
// or ErrHeaderLen; the stream cannot be resynchronised after it. Errors of r
// are returned as is: io.EOF means the stream ended cleanly between packets,
// io.ErrUnexpectedEOF that it ended inside one.
func (p *Packet) ReadFrom(r Reader, maxBody int) error {
	hdr, err := r.Pop(HeaderLen)
	if err != nil {
		return err
	}
	bodyLen, err := p.parseHeader(hdr, maxBody)
	if err != nil {
		return err
	}
	if bodyLen == 0 {
		p.Body = nil
		return nil
	}
	body, err := r.Pop(bodyLen)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	p.Body = body
	return nil
}

// Decode decodes msg, one WebSocket message that holds exactly one packet:
// packLen must equal len(msg). maxBody is the body limit; zero or negative
// means DefaultMaxBody. p.Body aliases msg (its capacity ends with msg's
// length, so appending to it copies). Errors wrap ErrPacketLen,
// ErrBodyTooLarge or ErrHeaderLen.
func (p *Packet) Decode(msg []byte, maxBody int) error {
	if len(msg) < HeaderLen {
		return fmt.Errorf("%w: message of %d bytes is shorter than a header", ErrPacketLen, len(msg))
	}
	bodyLen, err := p.parseHeader(msg[:HeaderLen], maxBody)
	if err != nil {
		return err
	}
	if HeaderLen+bodyLen != len(msg) {
		return fmt.Errorf("%w: packet length %d in a message of %d bytes", ErrPacketLen, HeaderLen+bodyLen, len(msg))
	}
	p.Body = nil
	if bodyLen > 0 {
		p.Body = msg[HeaderLen:len(msg):len(msg)]
	}
	return nil
}

// parseHeader validates the HeaderLen bytes of hdr, sets p's Ver, Op and Seq
// from them and returns the body length. p.Body is left untouched.
func (p *Packet) parseHeader(hdr []byte, maxBody int) (int, error) {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	_ = hdr[HeaderLen-1]
	packLen := int32(binary.BigEndian.Uint32(hdr[packLenOff:]))
	if packLen < HeaderLen {
		return 0, fmt.Errorf("%w: %d", ErrPacketLen, packLen)
	}
	bodyLen := int(packLen) - HeaderLen
	if bodyLen > maxBody {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrBodyTooLarge, bodyLen, maxBody)
	}
	if headerLen := int16(binary.BigEndian.Uint16(hdr[headerLenOff:])); headerLen != HeaderLen {
		return 0, fmt.Errorf("%w: %d", ErrHeaderLen, headerLen)
	}
	p.Ver = int16(binary.BigEndian.Uint16(hdr[verOff:]))
	p.Op = int32(binary.BigEndian.Uint32(hdr[opOff:]))
	p.Seq = int32(binary.BigEndian.Uint32(hdr[seqOff:]))
	return bodyLen, nil
}

// appendHeader appends a packet header to b.
func appendHeader(b []byte, packLen int, ver int16, op, seq int32) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(packLen))
	b = binary.BigEndian.AppendUint16(b, HeaderLen)
	b = binary.BigEndian.AppendUint16(b, uint16(ver))
	b = binary.BigEndian.AppendUint32(b, uint32(op))
	return binary.BigEndian.AppendUint32(b, uint32(seq))
}
