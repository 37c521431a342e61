package rpc

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"time"
)

// conn returns the live connection. When there is none it starts
// connecting (unless connectLoop already runs) and waits for the dial in
// progress, bounded by ctx; while connectLoop waits out a backoff it fails
// at once with ErrUnavailable and the last dial error.
func (c *Client) conn(ctx context.Context) (*clientConn, error) {
	c.mu.Lock()
	for {
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClosed
		}
		if c.cc != nil {
			cc := c.cc
			c.mu.Unlock()
			return cc, nil
		}
		if !c.connecting {
			c.startConnectLocked(0)
		}
		if c.dialing == nil {
			err := c.lastErr
			c.mu.Unlock()
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		ch := c.dialing
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for the dial: %w", ErrUnavailable, ctx.Err())
		}
		c.mu.Lock()
	}
}

// stableConn is how long a connection must have lasted for its loss to be
// redialled at once; one that broke sooner counts as a failed dial, so a
// peer that accepts and drops connections at once is not redialled in a
// busy loop.
const stableConn = time.Second

// startConnectLocked starts connectLoop: with a dial in progress, or, when
// wait is positive, waiting out a backoff of about wait first (callers
// meanwhile fail at once with ErrUnavailable, as during any backoff).
func (c *Client) startConnectLocked(wait time.Duration) {
	c.connecting = true
	c.dialing = nil
	if wait <= 0 {
		c.dialing = make(chan struct{})
	}
	c.wg.Add(1)
	go c.connectLoop(wait)
}

// connectLoop dials until a dial succeeds or the client is closed, waiting
// a growing, jittered backoff between failures, and before the first dial
// when backoff is positive.
func (c *Client) connectLoop(backoff time.Duration) {
	defer c.wg.Done()
	if backoff > 0 && !c.waitBackoff(backoff) {
		return
	}
	for failures := 0; ; failures++ {
		nc, err := c.dial()
		retry, connected := c.dialed(nc, err, failures)
		if connected && c.cfg.OnConnect != nil {
			c.cfg.OnConnect()
		}
		if !retry {
			return
		}
		backoff = min(max(2*backoff, c.cfg.MinBackoff), c.cfg.MaxBackoff)
		if !c.waitBackoff(backoff) {
			return
		}
	}
}

// waitBackoff waits a jittered d, then marks a new dial in progress. It
// reports false if the client was closed meanwhile.
func (c *Client) waitBackoff(d time.Duration) bool {
	if !c.sleep(d/2 + rand.N(d/2+1)) {
		c.endConnect()
		return false
	}
	return c.beginDial()
}

// dial makes one dial attempt, with its handshakes, bounded by
// DialTimeout and Close.
func (c *Client) dial() (net.Conn, error) {
	c.dials.Add(1)
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.DialTimeout)
	defer cancel()
	return c.dialSecure(ctx)
}

// dialed records the outcome of a dial and reports whether to retry and
// whether nc became the live connection.
func (c *Client) dialed(nc net.Conn, err error, failures int) (retry, connected bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.dialing)
	c.dialing = nil
	if c.closed {
		c.connecting = false
		if nc != nil {
			nc.Close()
		}
		return false, false
	}
	if err != nil {
		c.dialErrors.Add(1)
		c.lastErr = err
		if failures == 0 {
			c.logger.Warn("rpc: dial failed; retrying with backoff", "err", err)
		}
		return true, false
	}
	if failures > 0 {
		c.logger.Info("rpc: connected", "failed_dials", failures)
	}
	c.startConnLocked(nc)
	c.connecting = false
	return false, true
}

// beginDial marks a new dial in progress, or reports false after Close.
func (c *Client) beginDial() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.connecting = false
		return false
	}
	c.dialing = make(chan struct{})
	return true
}

func (c *Client) endConnect() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.connecting = false
}

// sleep waits d and reports false if the client was closed meanwhile.
func (c *Client) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// startConnLocked makes nc the live connection and starts its goroutines.
func (c *Client) startConnLocked(nc net.Conn) {
	cc := newClientConn(c, nc)
	c.cc = cc
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		cc.w.loop()
	}()
	go cc.readLoop()
}

// connLost forgets cc, which broke with err, and starts reconnecting
// unless the client is closed.
func (c *Client) connLost(cc *clientConn, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cc.addStats(&c.totals)
	if c.cc == cc {
		c.cc = nil
	}
	if c.closed {
		return
	}
	c.connsLost.Add(1)
	c.logger.Warn("rpc: connection lost; reconnecting", "err", err)
	if !c.connecting {
		wait := c.lossBackoffLocked(cc)
		if wait > 0 {
			c.lastErr = fmt.Errorf("%w: %w", ErrConnLost, err)
		}
		c.startConnectLocked(wait)
	}
}

// lossBackoffLocked returns how long to wait before redialling after cc
// broke: nothing when cc lasted stableConn, else a backoff that grows with
// each such quick loss in a row, as with failed dials.
func (c *Client) lossBackoffLocked(cc *clientConn) time.Duration {
	if time.Since(cc.made) >= stableConn {
		c.lossBackoff = 0
		return 0
	}
	c.lossBackoff = min(max(2*c.lossBackoff, c.cfg.MinBackoff), c.cfg.MaxBackoff)
	return c.lossBackoff
}
