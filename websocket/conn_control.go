package websocket

import (
	"encoding/binary"
	"errors"
	"time"
	"unicode/utf8"
)

// handleControl reads a control frame's payload into ctl (made on the
// first control frame) and acts on it:
// ping -> pong, pong -> nothing, close -> close reply and a *CloseError.
func (c *Conn) handleControl(h *FrameHeader) error {
	n := int(h.Length)
	payload := c.control()[MaxFrameHeaderSize : MaxFrameHeaderSize+n]
	if err := c.readFull(payload); err != nil {
		return err
	}
	if h.Masked {
		Mask(h.Key, 0, payload)
	}
	switch h.Op {
	case OpPing:
		return c.replyControl(OpPong, n, false)
	case OpPong:
		return nil
	}
	return c.handleClose(payload)
}

// handleClose validates the peer's close payload, answers it with a close
// frame echoing the code, and returns the *CloseError for the caller.
func (c *Conn) handleClose(payload []byte) error {
	code, reason := CloseNoStatus, []byte(nil)
	switch {
	case len(payload) == 1:
		return violation(CloseProtocolError, ErrProtocol, "close payload of 1 byte")
	case len(payload) >= 2:
		code, reason = binary.BigEndian.Uint16(payload), payload[2:]
		if !validCloseCode(code) {
			return violation(CloseProtocolError, ErrProtocol, "close code %d", code)
		}
		if !utf8.Valid(reason) {
			return violation(CloseInvalidPayload, ErrInvalidUTF8, "close reason")
		}
	}
	cerr := &CloseError{Code: code, Reason: string(reason)}
	// The echo is the code alone, already in place at the payload's start.
	// It is best effort: the peer may have closed TCP right after its frame.
	c.replyControl(OpClose, min(len(payload), 2), true)
	return cerr
}

// replyControl sends a control frame whose payload is the first n bytes at
// ctl[MaxFrameHeaderSize:], unless our close frame went out already; close
// marks it sent. With a WriteTimeout it first moves the write deadline, so
// that a deadline left over from an earlier write does not fail it.
func (c *Conn) replyControl(op Opcode, n int, close bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return nil
	}
	c.closeSent = close
	if c.writeTimeout > 0 {
		if err := c.nc.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
			return err
		}
	}
	ctl := c.control()
	payload := ctl[MaxFrameHeaderSize : MaxFrameHeaderSize+n]
	hdrLen := 2
	var key *[4]byte
	if c.client {
		k := newMaskKey()
		key, hdrLen = &k, 6
		Mask(k, 0, payload)
	}
	start := MaxFrameHeaderSize - hdrLen
	AppendFrameHeader(ctl[start:start], true, op, key, n)
	_, err := c.nc.Write(ctl[start : MaxFrameHeaderSize+n])
	return err
}

// failRead turns a read error into the error ReadMessage reports; for a
// protocol violation it first sends the matching close frame (best effort).
func (c *Conn) failRead(err error) error {
	var perr *protocolError
	if errors.As(err, &perr) {
		binary.BigEndian.PutUint16(c.control()[MaxFrameHeaderSize:], perr.code)
		c.replyControl(OpClose, 2, true)
	}
	return err
}
