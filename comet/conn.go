package comet

import (
	"crypto/tls"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goimx/goim/bufio"
	"github.com/goimx/goim/timer"
	"github.com/goimx/goim/websocket"
)

// conn is one client connection, TCP or WebSocket, plain or TLS.
//
// Goroutines: while it is idle a plain connection on Linux has none: it
// is parked in a poller's epoll set (conn_poll.go), which starts a
// transient reader goroutine when bytes arrive; the reader handles what
// arrived, parks the connection again and exits. A TLS connection, or
// any connection with Config.ReadPollers negative or on other platforms,
// keeps exactly one goroutine, its reader, blocked reading a packet
// header into rbuf. Either way an idle connection holds no buffer. The
// writer goroutine exists only while the send queue is not empty or a
// heartbeat reply waits (a push starts it, unless the pusher writes
// itself: see flush; it exits when it finds nothing to write). The
// reader hands heartbeat replies to it, so
// that the reader's stack, kept by every idle connection, never holds the
// deep write path (see heartbeat).
//
// Ownership: the fields from id to body are set before the reader
// goroutine starts and then read-only, except those marked "reader",
// which only the reader goroutine touches. The reader goroutine is the
// only one that writes room (with bucket.mu held), so it may read room
// without the lock. Lock order: bucket.mu, then mu; wmu, then mu or the
// websocket's write lock; wmu never under bucket.mu.
type conn struct {
	cm      *Comet
	id      uint64          // unique on this comet; sent to logic
	nc      net.Conn        // the client connection (maybe *tls.Conn)
	raw     syscall.RawConn // nc's socket (flush's non-blocking writes, the poller); nil unless TCP on Linux
	ws      *websocket.Conn // nil for a TCP connection
	writeFn func()          // c.writeLoop, made once so starting a writer does not allocate
	th      timer.Handle    // reader: handshake, then heartbeat deadline
	key     string          // set at auth
	mid     int64           // set at auth
	bucket  *bucket         // set at auth
	renewAt int64           // reader: unix nanoseconds of the next session renewal
	body    *bufio.Buffer   // reader: pooled buffer holding the body being handled
	reason  atomic.Uint32   // CloseReason, set once by the first closer
	authed  atomic.Bool     // logic accepted the auth token
	have    uint8           // reader: header bytes waitPacket read into rbuf
	inBody  bool            // reader: Pop returns the body next
	msgWin  uint16          // reader: the second (Unix time mod 2^16) msgs counts, for Config.MsgRate
	rbuf    [rbufLen]byte   // reader: packet header, small messages and replies

	// The poller fields are set by newConn and then read-only, except
	// those marked "reader". poll is nil when c keeps a reader goroutine.
	// (rstate and pollAdded sit further down, where they fill padding.)
	poll   *poller // the poller c parks in while idle
	readFn func()  // c.readParked, made once so unpark does not allocate

	// resume is set while c resumes its room (conn_resume.go), else nil.
	resume atomic.Pointer[resumeState]

	// room, prev, next and extra are guarded by bucket.mu (see room): the
	// primary room and its list links, and the additional rooms (nil
	// unless c joined some).
	room       *room
	prev, next *conn
	extra      *extraRooms

	// mu guards accepts, queue, queued, writing, closed and the hb fields.
	mu      sync.Mutex
	accepts []int32    // ops pushed by key and broadcast reach this connection
	queue   *sendQueue // messages waiting for the writer; nil when empty
	queued  int32      // what queue costs against Config.SendQueueBytes (queueCost)
	writing bool       // the writer is claimed: a writer goroutine runs, or a pusher flushes
	closed  bool       // no more messages are queued
	hbWait  bool       // a heartbeat reply waits for the writer

	pollAdded bool // c's descriptor is in the poller's epoll set; guarded by poll.mu

	msgs  uint16 // reader (not guarded by mu): packets read in second msgWin
	hbVer int16  // ver of the waiting heartbeat reply
	hbSeq int32  // seq of the waiting heartbeat reply

	// wmu serializes writes to nc of a TCP connection (writer and replies;
	// a WebSocket connection serializes inside ws) and, on both, orders
	// heartbeat replies: the writer holds it from taking a reply (mu
	// inside it) until the reply is written.
	wmu sync.Mutex

	rstate atomic.Uint32 // readerActive or readerParked (poller field)
	hbMS   uint32        // heartbeat deadline in milliseconds, set at auth (setHeartbeat)
}

// rbufLen holds a packet header plus a 4-byte heartbeat reply body.
const rbufLen = 20

// newConn returns the connection state for nc, accepted by cm.
func newConn(cm *Comet, nc net.Conn) *conn {
	c := &conn{cm: cm, id: cm.connID.Add(1), nc: nc}
	c.writeFn = c.writeLoop
	c.raw = rawConnOf(nc)
	setSockOwner(nc, c)
	if cm.polls != nil && c.raw != nil {
		c.poll = cm.polls.of(c.id)
		c.readFn = c.readParked
	}
	return c
}

// remoteIP returns the client's IP (the zero Addr when nc is not a TCP
// connection), for the per-IP counts and limits. It is read from nc's
// remote address each time rather than kept in c: one field less in every
// idle connection.
func (c *conn) remoteIP() netip.Addr {
	ap, _ := c.remoteAddrPort()
	return ap.Addr().Unmap()
}

// remoteAddrPort returns the client's TCP address; false when nc is not
// a TCP connection.
func (c *conn) remoteAddrPort() (netip.AddrPort, bool) {
	if ap, ok := sockRemote(c.nc); ok {
		return ap, true
	}
	if a, ok := c.nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort(), true
	}
	return netip.AddrPort{}, false
}

// setHeartbeat sets c's heartbeat deadline to d, kept in whole
// milliseconds (1 ms to about 49 days): 4 bytes, which fit beside rstate,
// rather than 8 that would push every connection into a larger size class.
func (c *conn) setHeartbeat(d time.Duration) {
	c.hbMS = uint32(min(max(d.Milliseconds(), 1), math.MaxUint32))
}

// heartbeatTimeout returns c's heartbeat deadline.
func (c *conn) heartbeatTimeout() time.Duration { return time.Duration(c.hbMS) * time.Millisecond }

// timer returns the deadline timer shard of c.
func (c *conn) timer() *timer.Timer { return c.cm.timers.Shard(c.id) }

// deadline runs on the timer goroutine when the handshake or heartbeat
// deadline passes. It must not block: it closes the socket, which ends
// the reader.
func (c *conn) deadline() {
	reason := CloseHeartbeatTimeout
	if !c.authed.Load() {
		reason = CloseHandshakeTimeout
	}
	c.close(reason)
}

// close records reason (the first one wins) and closes the socket, which
// makes the reader goroutine tear the connection down; a parked
// connection gets a reader started for that. It never blocks on the
// network: it may run on the timer goroutine or under a bucket lock.
func (c *conn) close(reason CloseReason) {
	c.reason.CompareAndSwap(uint32(CloseNone), uint32(reason))
	closeRaw(c.nc)
	c.unpark()
}

// closeGracefully is close for reasons worth telling a WebSocket client
// about: it first sends a close frame, waiting at most closeFrameTimeout
// for the socket. It may block that long: call it only where that is fine
// (the reader goroutine, a replacing connection). c must be past its
// upgrade (c.ws is read).
func (c *conn) closeGracefully(reason CloseReason) {
	c.closeWithFrame(reason, time.Now().Add(closeFrameTimeout))
}

// closeWithFrame is closeGracefully with the write deadline of the close
// frame given; a zero deadline keeps the one already set.
func (c *conn) closeWithFrame(reason CloseReason, deadline time.Time) {
	if c.ws != nil && c.reason.CompareAndSwap(uint32(CloseNone), uint32(reason)) {
		code, text := wsCloseCode(reason)
		if !deadline.IsZero() {
			_ = c.nc.SetWriteDeadline(deadline)
		}
		_ = c.ws.WriteClose(code, text)
	}
	c.close(reason)
}

// closeFrameTimeout bounds the write of a WebSocket close frame.
const closeFrameTimeout = time.Second

// wsCloseCode returns the WebSocket close status sent for reason.
func wsCloseCode(reason CloseReason) (uint16, string) {
	switch reason {
	case CloseShutdown:
		return websocket.CloseGoingAway, "server shutting down"
	case CloseDrain:
		return websocket.CloseGoingAway, "server draining: reconnect"
	case CloseReplaced:
		return websocket.ClosePolicyViolation, "replaced by a newer connection"
	case CloseAuthRefused:
		return websocket.ClosePolicyViolation, "auth refused"
	case CloseProtocol:
		return websocket.CloseProtocolError, "bad packet"
	case CloseSlow:
		return websocket.ClosePolicyViolation, "too slow"
	case CloseAuthRate, CloseMsgRate, CloseRoomTooLong, CloseTooManyRooms:
		return websocket.ClosePolicyViolation, reason.String()
	}
	return websocket.CloseNormal, ""
}

// closeRaw closes nc without writing to it: for TLS the underlying
// connection, since tls.Conn.Close may block sending an alert.
func closeRaw(nc net.Conn) {
	if tc, ok := nc.(*tls.Conn); ok {
		_ = tc.NetConn().Close()
		return
	}
	_ = nc.Close()
}

// closeReason returns the recorded reason, or CloseNone.
func (c *conn) closeReason() CloseReason { return CloseReason(c.reason.Load()) }
