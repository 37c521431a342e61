package comet

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// errAuth wraps logic's refusal (or failure) of an auth token.
var errAuth = errors.New("comet: auth refused")

// errDeadline reports that the handshake deadline passed during auth.
var errDeadline = errors.New("comet: handshake deadline passed")

// handshakeBufSize is the scratch buffer of a WebSocket upgrade; requests
// larger than websocket's default limit (4096) are refused anyway.
const handshakeBufSize = 4096

// handshake upgrades a WebSocket connection, reads the auth packet, asks
// logic, answers the client and registers the connection.
func (c *conn) handshake(ws bool) error {
	if ws {
		if err := c.upgrade(); err != nil {
			return err
		}
	}
	var p protocol.Packet
	if err := c.readAuth(&p); err != nil {
		return err
	}
	if !c.allowAuth() {
		c.releaseBody()
		return c.refuse(CloseAuthRate)
	}
	ac := c.cm.authCalls.Get().(*authCall)
	defer c.cm.putAuthCall(ac)
	rep, err := c.connect(ac, p.Body)
	c.releaseBody()
	if err != nil {
		return err
	}
	c.key, c.mid = rep.Key, rep.Mid
	rooms, err := c.authRooms(rep)
	if err != nil {
		return err
	}
	c.setHeartbeat(cmp.Or(max(rep.Heartbeat, 0), c.cm.cfg.HeartbeatTimeout))
	c.setAccepts(rep.Accepts)
	c.renewAt = time.Now().Add(c.cm.cfg.RenewInterval).UnixNano()
	if !c.timer().Reset(c.th, c.heartbeatTimeout()) {
		return errDeadline // the handshake deadline fired: c is closing
	}
	// Register before the auth reply, so a push sent once the client saw
	// the reply finds it; hold the writer until the reply is out, so a push
	// arriving in between waits on the queue and follows the reply.
	c.holdWriter()
	var rs *resumeState
	if rep.Resume && rep.RoomID != "" {
		rs = c.startResume(rep.RoomID) // before joining: hold the room's live messages
	}
	if err := c.register(rep.RoomID, rooms); err != nil {
		return err
	}
	if rs != nil {
		return c.resumeRoom(rs, rep, &p)
	}
	reply := (&protocol.Packet{Ver: p.Ver, Op: protocol.OpAuthReply, Seq: p.Seq}).Append(c.rbuf[:0])
	if err := c.writePacket(reply); err != nil {
		return err
	}
	c.releaseWriter()
	return nil
}

// upgrade runs the WebSocket opening handshake with a pooled scratch
// buffer.
func (c *conn) upgrade() error {
	buf := c.cm.pool.Get(handshakeBufSize)
	defer c.cm.pool.Put(buf)
	_, leftover, err := websocket.ServerHandshake(c.nc, buf.Bytes(), &c.cm.wsHandshake)
	if err != nil {
		return err
	}
	c.ws = websocket.NewServerConn(c.nc, leftover, websocket.ConnConfig{
		MaxMessageSize: c.cm.cfg.WSMaxMessage,
		WriteTimeout:   c.cm.cfg.WriteTimeout, // pongs: a stale deadline of an earlier write must not fail them
	})
	return nil
}

// authCall is the request and reply of one auth call to logic, pooled by
// the comet (Comet.authCalls) so that a handshake leaves neither behind:
// short-lived objects in the size classes of a connection's long-lived
// ones would keep half-empty heap pages resident after a collection.
type authCall struct {
	req logicrpc.ConnectReq
	rep logicrpc.ConnectReply
}

// putAuthCall returns ac to the pool, holding nothing.
func (cm *Comet) putAuthCall(ac *authCall) {
	*ac = authCall{}
	cm.authCalls.Put(ac)
}

// connect asks logic to accept token, with ac's request, and returns its
// answer in ac's reply. On success c counts as authed: its teardown tells
// logic.
func (c *conn) connect(ac *authCall, token []byte) (*logicrpc.ConnectReply, error) {
	ac.req = logicrpc.ConnectReq{
		Server: c.cm.cfg.NodeID,
		ConnID: c.id,
		Addr:   c.remoteAddr(),
		Token:  token,
	}
	ctx := c.cm.calls.get()
	rep := &ac.rep
	var err error
	if ls, ok := c.cm.logic.(logicrpc.ConnectIntoService); ok {
		err = ls.ConnectInto(ctx, &ac.req, rep)
	} else {
		var r *logicrpc.ConnectReply
		if r, err = c.cm.logic.Connect(ctx, &ac.req); err == nil {
			*rep = *r
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errAuth, err)
	}
	if rep.Key == "" {
		return nil, fmt.Errorf("%w: logic assigned no key", errAuth)
	}
	c.authed.Store(true)
	return rep, nil
}

// remoteAddr returns the client's address as host:port, formatted as
// net.TCPAddr.String does, with one allocation rather than two.
func (c *conn) remoteAddr() string {
	ap, ok := c.remoteAddrPort()
	if !ok {
		return c.nc.RemoteAddr().String()
	}
	var buf [64]byte
	return string(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).AppendTo(buf[:0]))
}

// authRooms returns the additional rooms the token named (extraRoomIDs),
// or refuses c when one is too long or they are more than
// Config.MaxRooms allows.
func (c *conn) authRooms(rep *logicrpc.ConnectReply) ([]string, error) {
	rooms, ok := extraRoomIDs(rep.RoomID, rep.Rooms)
	if !ok {
		return nil, c.refuse(CloseRoomTooLong)
	}
	if limit := c.cm.extraRoomLimit(); limit >= 0 && len(rooms) > limit {
		return nil, c.refuse(CloseTooManyRooms)
	}
	return rooms, nil
}

// setAccepts replaces the accept set with ops (deduplicated).
func (c *conn) setAccepts(ops []int32) {
	ops = slices.Clone(ops) // one allocation; ops may be logic's
	slices.Sort(ops)
	ops = slices.Clip(slices.Compact(ops))
	c.mu.Lock()
	c.accepts = ops
	c.mu.Unlock()
}

// register puts the authenticated c into its bucket, its primary room
// roomID and its additional rooms, closing a connection it replaces.
func (c *conn) register(roomID string, rooms []string) error {
	b := c.cm.bucketByKey(c.key)
	old, ok := b.put(c, roomID, rooms)
	if !ok {
		return ErrServerClosed
	}
	c.bucket = b
	c.cm.added(c)
	if old != nil {
		old.closeGracefully(CloseReplaced)
	}
	return nil
}

// finish tears c down on its reader goroutine once reading ended with
// err: it closes the socket, cancels the deadline, drops queued messages,
// leaves bucket and room, tells logic, counts and logs the close.
func (c *conn) finish(err error) {
	reason := c.closeReason()
	if reason == CloseNone {
		reason = classify(err)
		if reason == CloseClient && !c.authed.Load() {
			reason = CloseNoAuth
		}
		switch reason {
		case CloseProtocol, CloseAuthRefused:
			c.closeGracefully(reason)
		default:
			c.close(reason)
		}
		reason = c.closeReason()
	}
	c.timer().Del(c.th)
	c.releaseBody()
	c.stopQueue()
	if c.bucket != nil {
		c.bucket.del(c) // a no-op for the key when a newer connection took it
		c.cm.removed(c)
	}
	if c.authed.Load() {
		c.disconnect()
	}
	c.cm.ipConns.del(c.remoteIP()) // counted by admit
	if c.poll != nil {
		c.poll.forget(c) // registered by a park, or a wait of its socket
	}
	c.cm.closes[reason].Add(1)
	c.logClose(reason, err)
}

// disconnect queues the news that c closed for logic (Comet.disc).
func (c *conn) disconnect() {
	c.cm.disc.add(logicrpc.DisconnectReq{Mid: c.mid, Key: c.key, Server: c.cm.cfg.NodeID, ConnID: c.id})
}
