package rpc

import (
	"context"
	"time"
)

// PingMethod is the method of the one-way keepalive a client sends on a
// connection it has not written to for ClientConfig.PingInterval. The
// server reads and drops it: its arrival keeps the connection under the
// server's IdleTimeout. No handler may be registered for it.
const PingMethod uint16 = 0xffff

// DefaultPingInterval is the ClientConfig.PingInterval used when it is
// zero: well under DefaultIdleTimeout.
const DefaultPingInterval = 10 * time.Second

// checkMethod panics for the reserved PingMethod.
func checkMethod(method uint16) {
	if method == PingMethod {
		panic("rpc: method 0xffff is reserved for keepalives")
	}
}

// idleReader reads a server connection after its handshakes, counting the
// bytes and keeping the read deadline IdleTimeout ahead of every wait for
// bytes. To spare a deadline move per read, the deadline is moved only
// when a sixteenth of IdleTimeout passed since the last move, so a silent
// peer is closed after between 15/16 and all of IdleTimeout.
type idleReader struct {
	c    *serverConn
	next time.Time // when the deadline is due to be moved again
}

// Read reads from the connection, moving the idle deadline first when due.
func (r *idleReader) Read(p []byte) (int, error) {
	if idle := r.c.s.cfg.IdleTimeout; idle > 0 {
		if now := time.Now(); now.After(r.next) {
			r.c.moveIdleDeadline(now.Add(idle))
			r.next = now.Add(idle / 16)
		}
	}
	n, err := r.c.rw.Read(p)
	r.c.bytesIn.Add(uint64(n))
	return n, err
}

// moveIdleDeadline sets the read deadline to t, unless Shutdown is draining
// the connection (its deadline of now must stand).
func (c *serverConn) moveIdleDeadline(t time.Time) {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	if !c.draining {
		c.conn.SetReadDeadline(t)
	}
}

// setHandshakeDeadline sets the read and write deadline of the handshakes
// to t (the zero time clears it), keeping a drain's read deadline of now.
func (c *serverConn) setHandshakeDeadline(t time.Time) error {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	if err := c.conn.SetDeadline(t); err != nil {
		return err
	}
	if c.draining {
		return c.conn.SetReadDeadline(time.Now())
	}
	return nil
}

// startPinger arms the keepalive of a new connection: every PingInterval,
// ping sends a ping when nothing was queued since the last check.
func (cc *clientConn) startPinger() {
	if d := cc.c.cfg.PingInterval; d > 0 {
		cc.pinger = time.AfterFunc(d, cc.ping)
	}
}

// ping sends a keepalive when no frame was queued since the last check,
// then arms the next check unless the connection failed.
func (cc *clientConn) ping() {
	if cc.w.framesOut() == cc.pingFrames.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), cc.c.cfg.WriteTimeout)
		cc.w.writeFrame(ctx, header{kind: KindOneway, method: PingMethod}, nil, false) // a failed write shows in the read loop too
		cancel()
	}
	cc.pingFrames.Store(cc.w.framesOut())
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.err == nil {
		cc.pinger.Reset(cc.c.cfg.PingInterval)
	}
}
