package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// Dial connects to the comet named by cfg, runs the TLS and WebSocket
// handshakes its transport needs, sends the auth packet (op 7, cfg.Token as
// JSON) and waits for the auth reply (op 8). It then starts the heartbeat
// timer when cfg.Heartbeat is positive.
//
// All of it is bounded by ctx and cfg.DialTimeout; ctx does not affect the
// returned Conn. When the server closes the connection or answers with
// another op instead of the auth reply, the error wraps ErrAuth; an
// unknown transport or unusable address wraps ErrTransport.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.DialTimeout)
	defer cancel()
	nc, err := dialNet(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", s.dialAddr, err)
	}
	c, err := handshake(ctx, nc, s)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("client: dial %s: %w", s.dialAddr, err)
	}
	if s.Heartbeat > 0 {
		c.startHeartbeat(s.Heartbeat)
	}
	return c, nil
}

// dialNet opens the TCP connection, from s.LocalAddr when set, and runs
// the TLS handshake for the TLS transports.
func dialNet(ctx context.Context, s settings) (net.Conn, error) {
	var d net.Dialer
	if s.LocalAddr != "" {
		ip := net.ParseIP(s.LocalAddr)
		if ip == nil {
			return nil, fmt.Errorf("%w: local address %q is not an IP address", ErrTransport, s.LocalAddr)
		}
		d.LocalAddr = &net.TCPAddr{IP: ip}
	}
	nc, err := d.DialContext(ctx, "tcp", s.dialAddr)
	if err != nil {
		return nil, err
	}
	if s.Transport != TransportTLS && s.Transport != TransportWSS {
		return nc, nil
	}
	tc := tls.Client(nc, tlsConfig(s))
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	return tc, nil
}

// tlsConfig returns s.TLSConfig, cloned with ServerName set to the
// address's host when it is empty.
func tlsConfig(s settings) *tls.Config {
	cfg := s.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName != "" {
		return cfg
	}
	cfg = cfg.Clone()
	cfg.ServerName, _, _ = net.SplitHostPort(s.dialAddr)
	return cfg
}

// handshake runs the WebSocket handshake (WebSocket transports) and the
// auth round trip on nc within ctx: when ctx ends first, nc's deadline is
// set in the past to unblock them and ctx's error is returned.
func handshake(ctx context.Context, nc net.Conn, s settings) (*Conn, error) {
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	c, err := handshakeConn(nc, s)
	if !stop() || ctx.Err() != nil {
		if err == nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("%w (%w)", context.Cause(ctx), err)
	}
	if err != nil {
		return nil, err
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	return c, nil
}

// handshakeConn builds the Conn over nc, upgrading to WebSocket first for
// the WebSocket transports, and authenticates it.
func handshakeConn(nc net.Conn, s settings) (*Conn, error) {
	var ws *websocket.Conn
	if s.wsPath != "" {
		origin := s.Origin
		if origin == "" {
			origin = "http://" + s.dialAddr
		}
		leftover, err := websocket.ClientHandshake(nc, nil, s.dialAddr, s.wsPath, origin)
		if err != nil {
			return nil, err
		}
		ws = websocket.NewClientConn(nc, leftover, websocket.ConnConfig{MaxMessageSize: s.MaxMessage})
	}
	c := newConn(nc, ws, s)
	if err := c.auth(s.SignedToken); err != nil {
		return nil, err
	}
	return c, nil
}

// auth sends the auth packet, with signed as its body or else the JSON
// token, and reads the reply, which must be op 8.
func (c *Conn) auth(signed string) error {
	body := []byte(signed)
	if signed == "" {
		tok := c.token
		if tok.Accepts == nil {
			tok.Accepts = []int32{}
		}
		var err error
		if body, err = json.Marshal(tok); err != nil {
			return fmt.Errorf("encode token: %w", err)
		}
	}
	if _, err := c.Send(protocol.OpAuth, body); err != nil {
		return err
	}
	m, err := c.Read()
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("waiting for the auth reply: %w", err)
		}
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	if m.Op != protocol.OpAuthReply {
		return fmt.Errorf("%w: got op %d instead of the auth reply", ErrAuth, m.Op)
	}
	if len(m.Body) > 0 {
		c.authReply = append([]byte(nil), m.Body...)
	}
	return nil
}

// AuthReply returns the body of the auth reply: empty, or for a token
// with RoomSeq the JSON resume outcome (docs/protocol.md, "Room sequence
// numbers and resume").
func (c *Conn) AuthReply() []byte { return c.authReply }
