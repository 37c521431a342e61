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

// schedulePing arms the keepalive: after PingInterval, ping sends a ping
// when nothing was written meanwhile.
func (cc *clientConn) schedulePing(lastFrames uint64) {
	d := cc.c.cfg.PingInterval
	if d <= 0 {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.err != nil {
		return
	}
	cc.pinger = time.AfterFunc(d, func() { cc.ping(lastFrames) })
}

// ping sends a keepalive when no frame was queued since the last check
// (lastFrames frames), then arms the next check.
func (cc *clientConn) ping(lastFrames uint64) {
	if cc.w.framesOut() == lastFrames {
		ctx, cancel := context.WithTimeout(context.Background(), cc.c.cfg.WriteTimeout)
		cc.w.writeFrame(ctx, header{kind: KindOneway, method: PingMethod}, nil, false) // an error shows in the read loop too
		cancel()
	}
	cc.schedulePing(cc.w.framesOut())
}
