package websocket

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"unicode/utf8"
)

// clientWriteChunk is the most payload a client-role write masks and writes
// at once; larger messages go out as one frame in several writes.
const clientWriteChunk = 4096

// WriteMessage writes payload as one final frame of type op (OpText,
// OpBinary, OpPing or OpPong; a text payload is not checked for UTF-8).
// Close frames go through WriteClose. In the client role the payload is
// copied and masked with a fresh key through a buffer the Conn keeps (at
// most 4 KiB + 14 bytes); payload is never modified. In the server role the
// header and payload go out in one vectored write on TCP (two writes on
// other connections, e.g. TLS); hot paths should build frames with
// AppendFrame and use WritePreparedFrame. It is safe for concurrent use and
// returns ErrCloseSent after our close frame.
func (c *Conn) WriteMessage(op Opcode, payload []byte) error {
	switch op {
	case OpText, OpBinary:
	case OpPing, OpPong:
		if len(payload) > maxControlPayload {
			return ErrControlTooLong
		}
	default:
		return fmt.Errorf("%w: %v", ErrBadOpcode, op)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return ErrCloseSent
	}
	return c.writeFrameLocked(op, payload)
}

// WritePreparedFrame writes frame as is: one or more complete frames back to
// back, e.g. built once with AppendFrame and written to many connections.
// Server-role frames must be unmasked and client-role frames masked
// (AppendMaskedFrame); frame is not checked or modified and may be shared
// by concurrent writers on other connections. It is safe for concurrent use
// and returns ErrCloseSent after our close frame.
func (c *Conn) WritePreparedFrame(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return ErrCloseSent
	}
	_, err := c.nc.Write(frame)
	return err
}

// WritePreparedFrames writes the complete frames in bufs with one vectored
// write (writev on TCP), consuming bufs as net.Buffers.WriteTo does. The
// same rules as for WritePreparedFrame apply to each frame. It is safe for
// concurrent use and returns ErrCloseSent after our close frame.
func (c *Conn) WritePreparedFrames(bufs *net.Buffers) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return ErrCloseSent
	}
	_, err := WriteBuffersTo(c.nc, bufs)
	return err
}

// BuffersWriter is a connection with a vectored write of its own:
// net.Buffers.WriteTo makes one writev only for the net package's
// connections and one Write per buffer for any other. A Conn writes
// through it when its connection has one.
type BuffersWriter interface {
	// WriteBuffers writes all of bufs, consuming them as
	// net.Buffers.WriteTo does, and returns the bytes written.
	WriteBuffers(bufs *net.Buffers) (int64, error)
}

// WriteBuffersTo writes bufs to nc (consuming them), through nc's own
// vectored write when it is a BuffersWriter, else with
// net.Buffers.WriteTo.
func WriteBuffersTo(nc net.Conn, bufs *net.Buffers) (int64, error) {
	if w, ok := nc.(BuffersWriter); ok {
		return w.WriteBuffers(bufs)
	}
	return bufs.WriteTo(nc)
}

// WriteClose sends a close frame with code and reason (at most 123 bytes
// of UTF-8), or an empty one for code CloseNoStatus. Nothing may be written
// after it; ReadMessage keeps reading until the peer's close frame arrives
// (it returns a *CloseError) and the caller then calls Close. It returns
// ErrBadCloseCode for codes that may not be sent and ErrCloseSent when a
// close frame went out already.
func (c *Conn) WriteClose(code uint16, reason string) error {
	if code != CloseNoStatus && !validCloseCode(code) {
		return fmt.Errorf("%w: %d", ErrBadCloseCode, code)
	}
	if len(reason) > maxCloseReason || (code == CloseNoStatus && reason != "") {
		return ErrControlTooLong
	}
	if !utf8.ValidString(reason) {
		return fmt.Errorf("%w: close reason", ErrInvalidUTF8)
	}
	var payload []byte
	if code != CloseNoStatus {
		payload = binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), code)
		payload = append(payload, reason...)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return ErrCloseSent
	}
	c.closeSent = true
	return c.writeFrameLocked(OpClose, payload)
}

// writeFrameLocked writes one final frame in the Conn's role.
func (c *Conn) writeFrameLocked(op Opcode, payload []byte) error {
	if c.client {
		return c.writeMaskedLocked(op, payload)
	}
	hdr := AppendFrameHeader(c.whdr[:0], true, op, nil, len(payload))
	if len(payload) == 0 {
		_, err := c.nc.Write(hdr)
		return err
	}
	c.wbufs = [2][]byte{hdr, payload}
	c.wv = c.wbufs[:]
	_, err := WriteBuffersTo(c.nc, &c.wv)
	c.wbufs = [2][]byte{} // keep no reference to the caller's payload
	return err
}

// writeMaskedLocked writes one masked frame through wbuf, in pieces of at
// most clientWriteChunk payload bytes.
func (c *Conn) writeMaskedLocked(op Opcode, payload []byte) error {
	key := newMaskKey()
	if want := MaxFrameHeaderSize + min(len(payload), clientWriteChunk); cap(c.wbuf) < want {
		c.wbuf = make([]byte, 0, max(want, 256))
	}
	b := AppendFrameHeader(c.wbuf[:0], true, op, &key, len(payload))
	pos := 0
	for {
		k := min(len(payload), cap(b)-len(b))
		start := len(b)
		b = append(b, payload[:k]...)
		pos = Mask(key, pos, b[start:])
		payload = payload[k:]
		if _, err := c.nc.Write(b); err != nil {
			return err
		}
		if len(payload) == 0 {
			return nil
		}
		b = c.wbuf[:0]
	}
}

// newMaskKey returns a fresh masking key from the runtime's ChaCha8-based
// generator (unpredictable, seeded by the OS), without allocating.
func newMaskKey() [4]byte {
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], rand.Uint32())
	return k
}
