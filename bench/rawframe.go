package bench

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// maxRawUnit bounds one packet (TCP) or frame (WebSocket) the epoll reader
// accepts: an op-9 batch of a room, 64 KiB by default, with room to spare.
const maxRawUnit = 1 << 20

// ErrStream reports bytes from the server that the epoll reader cannot
// parse; the connection is dropped and counted lost.
var ErrStream = errors.New("bench: bad stream from server")

// nextUnit returns the first complete unit at the start of b: for TCP a
// packet, for WebSocket the payload of a frame (a packet, on binary
// frames) and the frame's opcode. used is the number of bytes the unit
// takes; used == 0 means b holds no complete unit yet, and need is the
// number of bytes it will take (at least).
func nextUnit(b []byte, ws bool) (unit []byte, op websocket.Opcode, used, need int, err error) {
	if !ws {
		if len(b) < protocol.HeaderLen {
			return nil, 0, 0, protocol.HeaderLen, nil
		}
		n := int(int32(binary.BigEndian.Uint32(b)))
		if n < protocol.HeaderLen || n > maxRawUnit {
			return nil, 0, 0, 0, fmt.Errorf("%w: packet length %d", ErrStream, n)
		}
		if len(b) < n {
			return nil, 0, 0, n, nil
		}
		return b[:n], websocket.OpBinary, n, n, nil
	}
	h, hn, err := websocket.ParseFrameHeader(b)
	if errors.Is(err, websocket.ErrShortHeader) {
		return nil, 0, 0, hn, nil
	}
	switch {
	case err != nil:
		return nil, 0, 0, 0, fmt.Errorf("%w: %v", ErrStream, err)
	case h.Masked || !h.Fin || h.RSV != 0 || h.Length > maxRawUnit:
		return nil, 0, 0, 0, fmt.Errorf("%w: frame %+v (masked, fragmented, extended or too long)", ErrStream, h)
	}
	n := hn + int(h.Length)
	if len(b) < n {
		return nil, 0, 0, n, nil
	}
	return b[hn:n], h.Op, n, n, nil
}

// unitPackets calls fn for each packet of unit (an op-9 batch is unpacked)
// and returns the first error; a unit of another WebSocket opcode than
// binary yields no packet (close frames end the stream: io.EOF-like
// ErrStream).
func unitPackets(unit []byte, op websocket.Opcode, fn func(op int32, body []byte)) error {
	switch op {
	case websocket.OpBinary:
	case websocket.OpPing, websocket.OpPong:
		return nil
	default:
		return fmt.Errorf("%w: websocket opcode %v", ErrStream, op)
	}
	var p protocol.Packet
	if err := p.Decode(unit, maxRawUnit); err != nil {
		return fmt.Errorf("%w: %v", ErrStream, err)
	}
	if p.Op != protocol.OpRaw {
		fn(p.Op, p.Body)
		return nil
	}
	rest := p.Body
	for len(rest) > 0 {
		var in protocol.Packet
		var err error
		in, rest, err = protocol.NextPacket(rest, maxRawUnit)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrStream, err)
		}
		fn(in.Op, in.Body)
	}
	return nil
}
