package websocket

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// FrameHeader is a decoded frame header (RFC 6455 section 5.2).
type FrameHeader struct {
	Fin    bool    // final fragment of a message
	RSV    byte    // RSV1..RSV3 as the low three bits; must be 0 without extensions
	Op     Opcode  // frame opcode
	Masked bool    // payload is masked with Key
	Key    [4]byte // masking key; zero when !Masked
	Length int64   // payload length, 0 <= Length < 2^63
}

// AppendFrameHeader appends the header of one frame to b and returns the
// extended slice. mask nil writes an unmasked header (server frames);
// otherwise the mask bit and *mask are written and the caller masks the
// payload with Mask. The shortest length encoding is used. It is a pure
// function and never allocates when b has room for 14 more bytes. It panics
// if payloadLen is negative.
func AppendFrameHeader(b []byte, fin bool, op Opcode, mask *[4]byte, payloadLen int) []byte {
	if payloadLen < 0 {
		panic("websocket: negative payload length")
	}
	b0 := byte(op) & 0x0f
	if fin {
		b0 |= 0x80
	}
	var b1 byte
	if mask != nil {
		b1 = 0x80
	}
	switch {
	case payloadLen <= 125:
		b = append(b, b0, b1|byte(payloadLen))
	case payloadLen <= math.MaxUint16:
		b = append(b, b0, b1|126)
		b = binary.BigEndian.AppendUint16(b, uint16(payloadLen))
	default:
		b = append(b, b0, b1|127)
		b = binary.BigEndian.AppendUint64(b, uint64(payloadLen))
	}
	if mask != nil {
		b = append(b, mask[0], mask[1], mask[2], mask[3])
	}
	return b
}

// AppendFrame appends one final, unmasked frame (a server frame) holding
// payload to b. The result can be written to any number of server-role
// connections with WritePreparedFrame.
func AppendFrame(b []byte, op Opcode, payload []byte) []byte {
	b = AppendFrameHeader(b, true, op, nil, len(payload))
	return append(b, payload...)
}

// AppendMaskedFrame appends one final frame masked with key (a client frame)
// holding payload to b; payload itself is not modified.
func AppendMaskedFrame(b []byte, op Opcode, key [4]byte, payload []byte) []byte {
	b = AppendFrameHeader(b, true, op, &key, len(payload))
	start := len(b)
	b = append(b, payload...)
	Mask(key, 0, b[start:])
	return b
}

// headerSize returns the full header size announced by the second byte of a
// frame header.
func headerSize(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// ParseFrameHeader decodes the frame header at the start of b and returns it
// with its size in bytes. When b is too short it returns ErrShortHeader and
// n is the number of bytes needed (2 when b holds fewer than 2). A length
// with the most significant bit set gives ErrFrameTooLong. Opcode, reserved
// bits and masking are not checked: that depends on the role (see Conn).
func ParseFrameHeader(b []byte) (h FrameHeader, n int, err error) {
	if len(b) < 2 {
		return h, 2, ErrShortHeader
	}
	n = headerSize(b[1])
	if len(b) < n {
		return h, n, ErrShortHeader
	}
	h.Fin = b[0]&0x80 != 0
	h.RSV = (b[0] >> 4) & 0x7
	h.Op = Opcode(b[0] & 0x0f)
	h.Masked = b[1]&0x80 != 0
	p := 2
	switch l := b[1] & 0x7f; l {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(b[2:]))
		p = 4
	case 127:
		u := binary.BigEndian.Uint64(b[2:])
		if u > math.MaxInt64 {
			return FrameHeader{}, n, ErrFrameTooLong
		}
		h.Length = int64(u)
		p = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Key[:], b[p:p+4])
	}
	return h, n, nil
}

// ReadFrameHeader reads exactly one frame header from r, using scratch for
// the bytes (so it does not allocate), and decodes it with ParseFrameHeader.
// An io.EOF before the first byte is returned as io.EOF; a header cut short
// gives io.ErrUnexpectedEOF.
func ReadFrameHeader(r io.Reader, scratch *[MaxFrameHeaderSize]byte) (FrameHeader, error) {
	if _, err := io.ReadFull(r, scratch[:2]); err != nil {
		return FrameHeader{}, err
	}
	n := headerSize(scratch[1])
	if _, err := io.ReadFull(r, scratch[2:n]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return FrameHeader{}, err
	}
	h, _, err := ParseFrameHeader(scratch[:n])
	if err != nil {
		return FrameHeader{}, fmt.Errorf("websocket: read frame header: %w", err)
	}
	return h, nil
}
