package websocket

import (
	"io"
	"net"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// ConnConfig configures a Conn. The zero value is ready to use.
type ConnConfig struct {
	// MaxMessageSize caps one data message, all its fragments together; a
	// larger message is refused with close code 1009 before any of its
	// payload is buffered. 0 (or less) means 64 KiB.
	MaxMessageSize int
	// WriteTimeout bounds each control frame ReadMessage writes itself (a
	// pong, the echo of the peer's close frame, the close frame after a
	// protocol violation): NetConn's write deadline is set to now plus
	// WriteTimeout first. 0 (or less) means these frames are written under
	// whatever write deadline the caller set last, which may have passed.
	WriteTimeout time.Duration
}

// Conn is one WebSocket connection after the opening handshake, in the
// server role (reads masked frames, writes unmasked ones) or the client role
// (the reverse). It holds no buffer while idle: ReadMessage reads frame
// headers into a small array inside Conn and payloads straight into the
// caller's buffer.
//
// One goroutine at a time may call ReadMessage. Writes may come from any
// goroutine: wmu serializes them with the control replies ReadMessage sends.
// Every write to the net.Conn must go through Conn. Deadlines are set on
// NetConn by the caller (ReadMessage sets the write deadline of its control
// replies itself when ConnConfig.WriteTimeout is set); a read or write error
// is final for the Conn.
type Conn struct {
	nc           net.Conn
	client       bool          // client role: masks writes, refuses masked frames
	maxMessage   int           // effective ConnConfig.MaxMessageSize
	writeTimeout time.Duration // ConnConfig.WriteTimeout

	// Read state, owned by the ReadMessage caller.
	rbuf    [MaxFrameHeaderSize]byte // read-ahead; rbuf[rpos:rend] not yet consumed
	rpos    uint8
	rend    uint8
	pending []byte // bytes read before the Conn existed (handshake leftover), read first
	readErr error  // sticky: returned by every ReadMessage once set
	// ctl holds a control frame's payload at ctl[MaxFrameHeaderSize:]; the
	// header of the reply (pong, close) is built just before it. It is
	// made on the first control frame (control), so that a connection that
	// never gets one, the usual idle connection, does not carry it.
	ctl *controlBuf

	// wmu guards closeSent, whdr, wbufs, wv, wbuf and every write to nc.
	wmu       sync.Mutex
	closeSent bool                     // our close frame went out; no more frames after it
	whdr      [MaxFrameHeaderSize]byte // header of an unmasked WriteMessage frame
	wbufs     [2][]byte                // header and payload for one vectored write
	wv        net.Buffers              // view of wbufs consumed by WriteTo
	wbuf      []byte                   // client role: masking buffer, at most clientWriteChunk+14 bytes
}

// controlBuf is a control frame's reply header and payload (Conn.ctl).
type controlBuf [MaxFrameHeaderSize + maxControlPayload]byte

// control returns c.ctl, making it on first use. Only the ReadMessage
// caller uses it.
func (c *Conn) control() *controlBuf {
	if c.ctl == nil {
		c.ctl = new(controlBuf)
	}
	return c.ctl
}

// NewServerConn wraps c, on which ServerHandshake succeeded, in the server
// role. leftover is the handshake's leftover (may be nil); it is copied, so
// the handshake buffer may be reused at once.
func NewServerConn(c net.Conn, leftover []byte, cfg ConnConfig) *Conn {
	return newConn(c, false, leftover, cfg)
}

// NewClientConn wraps c, on which ClientHandshake succeeded, in the client
// role. leftover is the handshake's leftover (may be nil); it is copied.
func NewClientConn(c net.Conn, leftover []byte, cfg ConnConfig) *Conn {
	return newConn(c, true, leftover, cfg)
}

// newConn builds a Conn in either role.
func newConn(c net.Conn, client bool, leftover []byte, cfg ConnConfig) *Conn {
	limit := cfg.MaxMessageSize
	if limit <= 0 {
		limit = defaultMaxMessageSize
	}
	conn := &Conn{nc: c, client: client, maxMessage: limit, writeTimeout: cfg.WriteTimeout}
	if len(leftover) > 0 {
		conn.pending = slices.Clone(leftover)
	}
	return conn
}

// NetConn returns the underlying connection, for deadlines and addresses.
// Do not read from or write to it directly.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Buffered returns the number of bytes already taken from the connection
// (read ahead, or left over from the handshake) that ReadMessage has not
// consumed yet. A caller that waits for the connection to become readable
// before calling ReadMessage (an epoll set) must not wait while Buffered
// is not zero: those bytes will not make it readable.
func (c *Conn) Buffered() int { return int(c.rend-c.rpos) + len(c.pending) }

// Close closes the underlying connection without a close frame; send one
// first with WriteClose for a clean close.
func (c *Conn) Close() error { return c.nc.Close() }

// ReadMessage reads the next data message, reassembling fragments, and
// appends its payload to dst; it returns the message's opcode (OpText or
// OpBinary) and the extended slice, so a reused buffer is passed as
// buf[:0]. dst grows only when it lacks capacity.
//
// Control frames are handled on the way: a ping is answered with a pong, a
// pong is dropped, and a close frame is answered with a close frame echoing
// its code (unless ours was sent already) and ends the read with a
// *CloseError. Protocol violations are answered with a close frame (1002;
// 1007 for invalid UTF-8; 1009 for a message over MaxMessageSize) and
// return an error wrapping ErrProtocol, ErrInvalidUTF8 or ErrMessageTooBig.
// io.EOF means the peer closed TCP between messages without a close frame.
// Any error is final: later calls return it again. On error the returned
// slice is dst unchanged.
func (c *Conn) ReadMessage(dst []byte) (Opcode, []byte, error) {
	if c.readErr != nil {
		return 0, dst, c.readErr
	}
	// Wait for the next frame here, high on the stack, so that a goroutine
	// idling in ReadMessage keeps the smallest stack.
	if err := c.fill(2); err != nil {
		c.readErr = err
		return 0, dst, err
	}
	op, msg, err := c.readMessage(dst)
	if err != nil {
		c.readErr = c.failRead(err)
		return 0, dst, c.readErr
	}
	return op, msg, nil
}

// readMessage is ReadMessage without the sticky error.
func (c *Conn) readMessage(dst []byte) (Opcode, []byte, error) {
	start := len(dst)
	var op Opcode // opcode of the message being assembled; 0 before its first frame
	for {
		h, err := c.readHeader(op != 0)
		if err != nil {
			return 0, dst, err
		}
		if err := c.checkFrame(&h, op); err != nil {
			return 0, dst, err
		}
		if h.Op.IsControl() {
			if err := c.handleControl(&h); err != nil {
				return 0, dst, err
			}
			continue
		}
		if have := len(dst) - start; h.Length > int64(c.maxMessage-have) {
			return 0, dst, errTooBig(h.Length, have, c.maxMessage)
		}
		if op == 0 {
			op = h.Op
		}
		n := int(h.Length)
		dst = slices.Grow(dst, n)
		p := dst[len(dst) : len(dst)+n]
		if err := c.readFull(p); err != nil {
			return 0, dst, err
		}
		if h.Masked {
			Mask(h.Key, 0, p)
		}
		dst = dst[:len(dst)+n]
		if h.Fin {
			break
		}
	}
	if op == OpText && !utf8.Valid(dst[start:]) {
		return 0, dst, errBadText()
	}
	return op, dst, nil
}

// checkFrame applies the RFC 6455 framing rules to h, given the opcode of
// the message being assembled (0 if none).
func (c *Conn) checkFrame(h *FrameHeader, op Opcode) error {
	switch {
	case h.RSV != 0:
		return violation(CloseProtocolError, ErrProtocol, "reserved bits %#x set", h.RSV)
	case c.client && h.Masked:
		return violation(CloseProtocolError, ErrProtocol, "masked frame from server")
	case !c.client && !h.Masked:
		return violation(CloseProtocolError, ErrProtocol, "unmasked frame from client")
	case h.Op.IsControl():
		return checkControl(h)
	case h.Op == OpContinuation && op == 0:
		return violation(CloseProtocolError, ErrProtocol, "continuation frame without a message")
	case (h.Op == OpText || h.Op == OpBinary) && op != 0:
		return violation(CloseProtocolError, ErrProtocol, "%v frame inside a fragmented message", h.Op)
	case h.Op != OpContinuation && h.Op != OpText && h.Op != OpBinary:
		return violation(CloseProtocolError, ErrProtocol, "reserved %v", h.Op)
	}
	return nil
}

// checkControl applies the rules for control frames.
func checkControl(h *FrameHeader) error {
	switch {
	case h.Op != OpClose && h.Op != OpPing && h.Op != OpPong:
		return violation(CloseProtocolError, ErrProtocol, "reserved %v", h.Op)
	case !h.Fin:
		return violation(CloseProtocolError, ErrProtocol, "fragmented %v frame", h.Op)
	case h.Length > maxControlPayload:
		return violation(CloseProtocolError, ErrProtocol, "%v frame of %d bytes", h.Op, h.Length)
	}
	return nil
}

// readHeader reads and decodes the next frame header. inMessage says a
// fragmented message is in progress, where EOF is unexpected.
func (c *Conn) readHeader(inMessage bool) (FrameHeader, error) {
	if err := c.fill(2); err != nil {
		if err == io.EOF && inMessage {
			err = io.ErrUnexpectedEOF
		}
		return FrameHeader{}, err
	}
	n := headerSize(c.rbuf[c.rpos+1])
	if err := c.fill(n); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return FrameHeader{}, err
	}
	h, _, err := ParseFrameHeader(c.rbuf[c.rpos:c.rend])
	if err != nil {
		return FrameHeader{}, errBadHeader(err)
	}
	c.rpos += uint8(n)
	return h, nil
}

// fill makes rbuf[rpos:rend] hold at least n bytes (n <= len(rbuf)),
// reading ahead as much as one read gives and rbuf holds. io.EOF is
// returned only when no byte at all was buffered.
func (c *Conn) fill(n int) error {
	have := int(c.rend - c.rpos)
	if have >= n {
		return nil
	}
	if c.rpos > 0 {
		copy(c.rbuf[:], c.rbuf[c.rpos:c.rend])
		c.rpos, c.rend = 0, uint8(have)
	}
	for {
		var m int
		var err error
		if len(c.pending) == 0 {
			m, err = c.nc.Read(c.rbuf[c.rend:])
		} else {
			m, err = c.read(c.rbuf[c.rend:])
		}
		c.rend += uint8(m)
		if int(c.rend) >= n {
			return nil
		}
		if err != nil {
			if err == io.EOF && c.rend > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
}

// errTooBig reports a message over the size limit. Error constructors are
// kept out of line so the read path's stack frames stay small.
//
//go:noinline
func errTooBig(length int64, have, limit int) error {
	return violation(CloseMessageTooBig, ErrMessageTooBig, "%d bytes after %d, limit %d", length, have, limit)
}

// errBadText reports a text message that is not UTF-8.
//
//go:noinline
func errBadText() error {
	return violation(CloseInvalidPayload, ErrInvalidUTF8, "text message")
}

// errBadHeader reports a header ParseFrameHeader refused.
//
//go:noinline
func errBadHeader(err error) error {
	return violation(CloseProtocolError, ErrProtocol, "%w", err)
}

// readFull fills p with payload bytes: first the read-ahead, then the
// connection.
func (c *Conn) readFull(p []byte) error {
	k := copy(p, c.rbuf[c.rpos:c.rend])
	c.rpos += uint8(k)
	for p = p[k:]; len(p) > 0; {
		m, err := c.read(p)
		p = p[m:]
		if len(p) == 0 {
			return nil
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// read reads from the handshake leftover while any is left, then from nc.
func (c *Conn) read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		return c.nc.Read(p)
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	if len(c.pending) == 0 {
		c.pending = nil
	}
	return n, nil
}
