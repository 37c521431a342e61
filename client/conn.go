package client

import (
	"bytes"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goimx/goim/bufio"
	"github.com/goimx/goim/websocket"
)

// keepBuf is the largest scratch buffer (WebSocket message, write packet) a
// Conn keeps between uses; a larger one, grown for a rare large message, is
// dropped once used so that idle connections stay small.
const keepBuf = 8 << 10

// Conn is an authenticated connection to a comet. Create it with Dial.
//
// One goroutine at a time may call Read or ReadOwned. The write methods
// and Close are safe for concurrent use, with each other and with the
// reader: each packet is written whole under wmu. A Conn starts no
// goroutine of its own.
type Conn struct {
	nc           net.Conn        // network connection, TLS-wrapped where configured
	ws           *websocket.Conn // WebSocket framing over nc; nil for TCP transports
	maxBody      int             // largest body of one packet, sent or received
	maxMessage   int             // largest WebSocket message
	writeTimeout time.Duration   // bound on each write; <= 0 means none
	token        Token           // the token sent at auth
	authReply    []byte          // body of the auth reply, set by Dial

	// Reader state, owned by the goroutine calling Read.
	rd      *bufio.Reader // TCP: buffered stream; nil for WebSocket
	rawLeft int           // TCP: bytes of the current op-9 batch still on the stream
	msg     []byte        // WebSocket: buffer of the current message
	batch   []byte        // WebSocket: unread inner packets of the current op-9 batch; aliases msg
	rerr    error         // sticky read error

	// wmu guards seq, wbuf, bbuf and werr, and serializes writes to nc and
	// ws so that packets never interleave.
	wmu  sync.Mutex
	seq  int32  // sequence number of the last packet sent
	wbuf []byte // encoded packet being written
	bbuf []byte // body being built (room id, op list)
	werr error  // sticky write error

	closed  atomic.Bool                // set by Close
	hbTimer atomic.Pointer[time.Timer] // Config.Heartbeat timer; nil when off
	// hbMu serializes the heartbeat timer's re-arm with Close's stop of it.
	hbMu sync.Mutex
}

// newConn returns a Conn over nc for the resolved settings s; for
// WebSocket transports ws carries the framing.
func newConn(nc net.Conn, ws *websocket.Conn, s settings) *Conn {
	c := &Conn{
		nc:           nc,
		ws:           ws,
		maxBody:      s.MaxBody,
		maxMessage:   s.MaxMessage,
		writeTimeout: s.WriteTimeout,
		token:        s.Token,
	}
	if ws == nil {
		c.rd = bufio.NewReaderSize(nc, headerLen+s.MaxBody)
	}
	return c
}

// Token returns the token the Conn authenticated with. The key the server
// assigned when Token.Key was empty is not sent back on the wire and is
// not known here.
func (c *Conn) Token() Token { return c.token }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the server's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Read returns the next packet from the server: a pushed message, or a
// reply to a request (auth replies are consumed by Dial). Op-9 batches are
// unpacked: their inner packets are returned one per call, in order.
//
// The returned Body aliases the Conn's read buffer and is valid only until
// the next Read; use ReadOwned, or copy it, to keep it. Read allocates
// nothing on its steady path.
//
// Errors are sticky: once Read fails, every later Read returns the same
// error. A stream that ends cleanly between packets yields an error
// wrapping io.EOF; a malformed packet one wrapping a protocol sentinel
// (the stream cannot be resynchronised after it); after Close, ErrClosed.
func (c *Conn) Read() (Message, error) {
	if c.rerr != nil {
		return Message{}, c.rerr
	}
	var m Message
	var err error
	if c.ws != nil {
		m, err = c.readWS()
	} else {
		m, err = c.readTCP()
	}
	if err != nil {
		if c.closed.Load() {
			err = ErrClosed
		} else {
			err = fmt.Errorf("client: read: %w", err)
		}
		c.rerr = err
		return Message{}, err
	}
	return m, nil
}

// ReadOwned is Read with Body copied into a new slice that the caller
// owns; it allocates once per message with a body.
func (c *Conn) ReadOwned() (Message, error) {
	m, err := c.Read()
	if m.Body != nil {
		m.Body = bytes.Clone(m.Body)
	}
	return m, err
}

// Close closes the connection and stops its heartbeat timer. A Read
// blocked in another goroutine returns ErrClosed, as do later calls of
// every method. Close is idempotent: calls after the first return nil.
func (c *Conn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	if t := c.hbTimer.Load(); t != nil {
		c.hbMu.Lock()
		t.Stop()
		c.hbMu.Unlock()
	}
	if err := c.nc.Close(); err != nil {
		return fmt.Errorf("client: close: %w", err)
	}
	return nil
}

// Closed reports whether Close has been called.
func (c *Conn) Closed() bool { return c.closed.Load() }
