package rpc

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// handshake runs the TLS handshake (with a TLSConfig) and the secret's
// (with a Secret) on a new connection, within HandshakeTimeout. Every
// failure wraps ErrAuth.
func (c *serverConn) handshake() error {
	cfg := &c.s.cfg
	if cfg.TLSConfig == nil && cfg.Secret == nil {
		return nil
	}
	if err := c.setHandshakeDeadline(time.Now().Add(cfg.HandshakeTimeout)); err != nil {
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	if cfg.TLSConfig != nil {
		tc := tls.Server(c.conn, cfg.TLSConfig)
		if err := tc.HandshakeContext(c.ctx); err != nil {
			return fmt.Errorf("%w: TLS handshake: %w", ErrAuth, err)
		}
		c.rw = tc
	}
	if cfg.Secret != nil {
		binding, err := channelBinding(c.rw)
		if err != nil {
			return err
		}
		if err := serverAuth(c.rw, cfg.Secret, binding); err != nil {
			return err
		}
	}
	return c.setHandshakeDeadline(time.Time{})
}

// unexpectedHello turns the error that ended the read loop into one
// wrapping ErrAuth when the peer's first bytes were a handshake hello: a
// client with a cluster secret talking to a server without one.
func (c *serverConn) unexpectedHello(err error) error {
	if c.s.cfg.Secret != nil || c.framesIn.Load() > 0 {
		return err
	}
	if b, _ := c.fr.r.Peek(len(authMagic)); isHello(b) {
		return fmt.Errorf("%w: the peer offered a handshake but this server has no cluster secret (set the same secret on both sides): %w", ErrAuth, err)
	}
	return err
}

// dialSecure dials addr and runs the TLS handshake (with a TLSConfig) and
// the secret's (with a Secret) within ctx. A handshake failure wraps
// ErrAuth.
func (c *Client) dialSecure(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	if c.cfg.TLSConfig == nil && c.cfg.Secret == nil {
		return nc, nil
	}
	conn, err := c.handshake(ctx, nc)
	if err != nil {
		nc.Close()
		c.authFailures.Add(1)
		return nil, err
	}
	return conn, nil
}

// handshake secures a freshly dialled nc within ctx (its deadline, and
// Close, which cancels it): it returns the connection frames travel on
// (nc, or a TLS connection over it).
func (c *Client) handshake(ctx context.Context, nc net.Conn) (net.Conn, error) {
	if dl, ok := ctx.Deadline(); ok {
		if err := nc.SetDeadline(dl); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrAuth, err)
		}
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })
	defer stop()
	conn := nc
	if c.cfg.TLSConfig != nil {
		cfg := c.cfg.TLSConfig
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			host, _, err := net.SplitHostPort(c.addr)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrAuth, err)
			}
			cfg.ServerName = host
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("%w: TLS handshake: %w", ErrAuth, err)
		}
		conn = tc
	}
	if c.cfg.Secret != nil {
		binding, err := channelBinding(conn)
		if err != nil {
			return nil, err
		}
		if err := clientAuth(conn, c.cfg.Secret, binding); err != nil {
			return nil, err
		}
	}
	if !stop() {
		return nil, fmt.Errorf("%w: %w", ErrAuth, ctx.Err())
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuth, err)
	}
	return conn, nil
}
