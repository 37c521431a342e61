package comet

import (
	"errors"
	"io"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// errBadMessage reports a WebSocket data message that was neither binary
// nor text (the websocket package returns only those two).
var errBadMessage = errors.New("comet: websocket message is not binary")

// serve runs one accepted connection: the WebSocket upgrade and the auth
// on this goroutine, then parks it in its poller or starts the read loop
// on a fresh goroutine (startReading), so that the stack grown by the
// handshake (logic call, token decoding) is not kept by the idle
// connection. It holds one count of cm.wg.
func (c *conn) serve(ws bool) {
	defer c.cm.wg.Done()
	if !c.admit() {
		c.close(CloseIPLimit)
		c.finish(errLimit)
		return
	}
	pb := c.cm.bucketByID(c.id)
	if !pb.addPending(c) {
		c.close(CloseShutdown)
		c.finish(ErrServerClosed)
		return
	}
	c.th = c.timer().Add(c.cm.cfg.HandshakeTimeout, c.deadline)
	err := c.handshake(ws)
	pb.delPending(c)
	if err != nil {
		c.finish(err)
		return
	}
	c.startReading() // this goroutine holds a count: the counter is not zero
}

// readLoop reads and handles packets until the connection fails, then
// tears it down. It holds one count of cm.wg.
//
// An idle connection's goroutine sits in this loop, so the call chain
// down to the blocking read is kept flat: its depth decides whether the
// goroutine fits the runtime's smallest (2 KB) stack.
func (c *conn) readLoop() {
	var err error
	for err == nil {
		if c.ws != nil {
			err = c.serveMessage(c.ws.ReadMessage(c.rbuf[:0]))
		} else if err = c.waitPacket(); err == nil {
			err = c.serveOne()
		}
	}
	c.finish(err)
	c.cm.wg.Done()
}

// waitPacket blocks until a TCP packet starts arriving, reading its first
// bytes into rbuf.
func (c *conn) waitPacket() error {
	n, err := c.nc.Read(c.rbuf[:protocol.HeaderLen])
	c.have = uint8(n)
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// serveOne reads the rest of one TCP packet and handles it.
func (c *conn) serveOne() error {
	var p protocol.Packet
	err := c.readPacket(&p)
	if err == nil {
		err = c.handle(&p)
	}
	c.releaseBody()
	return err
}

// serveMessage decodes and handles one WebSocket message, the result of
// ReadMessage.
func (c *conn) serveMessage(op websocket.Opcode, msg []byte, err error) error {
	var p protocol.Packet
	if err == nil {
		err = c.decodeMessage(&p, op, msg)
	}
	if err == nil {
		err = c.handle(&p)
	}
	return err
}

// decodeMessage decodes the packet of one WebSocket message.
func (c *conn) decodeMessage(p *protocol.Packet, op websocket.Opcode, msg []byte) error {
	if op != websocket.OpBinary && op != websocket.OpText {
		return errBadMessage
	}
	return p.Decode(msg, c.cm.cfg.MaxBody)
}

// readPacket reads one packet. Its body aliases c.body, or on WebSocket
// a fresh slice when the message is larger than c.body, and is valid
// until releaseBody.
func (c *conn) readPacket(p *protocol.Packet) error {
	if c.ws == nil {
		c.inBody = false
		return p.ReadFrom(c, c.cm.cfg.MaxBody)
	}
	// A pooled buffer rather than rbuf: an auth message (its token) does
	// not fit rbuf, and growing it would leave garbage per handshake.
	c.body = c.cm.pool.Get(wsReadBuf)
	op, msg, err := c.ws.ReadMessage(c.body.Bytes()[:0])
	if err != nil {
		return err
	}
	return c.decodeMessage(p, op, msg)
}

// wsReadBuf is the pooled buffer size readPacket reads a WebSocket
// message into (the pool's smallest class).
const wsReadBuf = 512

// Pop implements protocol.Reader for Packet.ReadFrom on the reader
// goroutine: the first call of a packet returns its header from rbuf
// (reading what waitPacket did not), the second its body in a pooled
// buffer kept in c.body until releaseBody.
func (c *conn) Pop(n int) ([]byte, error) {
	if !c.inBody {
		c.inBody = true
		b := c.rbuf[:n]
		if have := int(c.have); have < n {
			if _, err := io.ReadFull(c.nc, b[have:]); err != nil {
				return nil, unexpectedEOF(err)
			}
		}
		c.have = 0
		return b, nil
	}
	c.body = c.cm.pool.Get(n)
	b := c.body.Bytes()[:n]
	if _, err := io.ReadFull(c.nc, b); err != nil {
		return nil, unexpectedEOF(err)
	}
	return b, nil
}

// unexpectedEOF turns io.EOF inside a packet into io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// releaseBody returns the body buffer, if any, to the pool.
func (c *conn) releaseBody() {
	if c.body != nil {
		c.cm.pool.Put(c.body)
		c.body = nil
	}
}

// readAuth reads packets until the auth packet and returns it. Other
// packets before auth are ignored, as goim did, but count against
// Config.MsgRate; the handshake deadline bounds the wait.
func (c *conn) readAuth(p *protocol.Packet) error {
	for {
		if c.ws == nil {
			if err := c.waitPacket(); err != nil {
				return err
			}
		}
		if err := c.readPacket(p); err != nil {
			return err
		}
		if p.Op == protocol.OpAuth {
			return nil
		}
		c.releaseBody()
		if !c.allowMsg() {
			return c.refuse(CloseMsgRate)
		}
	}
}

// classify returns the close reason for a read loop that ended with err
// and no reason recorded by another closer.
func classify(err error) CloseReason {
	var herr *websocket.HandshakeError
	var cerr *websocket.CloseError
	switch {
	case err == nil:
		return CloseClient
	case errors.Is(err, io.EOF), errors.As(err, &cerr):
		return CloseClient
	case errors.As(err, &herr):
		return CloseUpgradeRefused
	case errors.Is(err, errAuth):
		return CloseAuthRefused
	case errors.Is(err, ErrServerClosed):
		return CloseShutdown
	case isProtocolError(err):
		return CloseProtocol
	}
	return CloseReadError
}

// isProtocolError reports whether err is a malformed packet or stream.
func isProtocolError(err error) bool {
	for _, target := range []error{
		protocol.ErrPacketLen, protocol.ErrHeaderLen, protocol.ErrBodyTooLarge,
		io.ErrUnexpectedEOF, errBadMessage,
		websocket.ErrProtocol, websocket.ErrInvalidUTF8, websocket.ErrMessageTooBig,
		websocket.ErrFrameTooLong,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
