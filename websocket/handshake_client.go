package websocket

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// Client handshake errors; check with errors.Is.
var (
	// ErrBadStatus: the server answered the upgrade with a status other than
	// 101; the error text holds the status line and the start of the body.
	ErrBadStatus = errors.New("websocket: handshake refused by server")
	// ErrBadResponse: a 101 answer that breaks RFC 6455 (missing upgrade
	// headers, wrong Sec-WebSocket-Accept, unrequested extension) or is
	// malformed or too large.
	ErrBadResponse = errors.New("websocket: bad handshake response")
	// ErrBadURL: Dial got a URL that is not ws:// or wss://, or a handshake
	// argument holds control characters.
	ErrBadURL = errors.New("websocket: bad URL")
)

// clientKeyLen is the length of a base64 Sec-WebSocket-Key.
const clientKeyLen = 24

// ClientHandshake runs the client side of the opening handshake (RFC 6455
// section 4.1) on rw: it writes a GET request for path (with its query) to
// host with a fresh random key and an Origin header unless origin is "",
// then reads the answer into buf and checks it. A nil or short buf (under
// 512 bytes) is replaced by a 1024-byte one; the answer head must fit.
//
// leftover holds bytes the server sent after its answer (its first frames);
// it aliases buf: pass it to NewClientConn. ClientHandshake sets no
// deadline: the caller bounds it with rw's deadline (Dial does).
func ClientHandshake(rw io.ReadWriter, buf []byte, host, path, origin string) (leftover []byte, err error) {
	if badHeaderValue(host) || badHeaderValue(path) || badHeaderValue(origin) || host == "" || path == "" {
		return nil, fmt.Errorf("%w: bad host, path or origin for the handshake", ErrBadURL)
	}
	if len(buf) < 512 {
		buf = make([]byte, 1024)
	}
	var raw [16]byte
	rand.Read(raw[:])
	var key [clientKeyLen]byte
	base64.StdEncoding.Encode(key[:], raw[:])
	if err := writeAll(rw, appendClientRequest(buf[:0], key[:], host, path, origin)); err != nil {
		return nil, err
	}
	headLen, n, err := readHead(rw, buf)
	if err == errHeadTooLarge {
		return nil, fmt.Errorf("%w: answer head larger than %d bytes", ErrBadResponse, len(buf))
	}
	if err != nil {
		return nil, fmt.Errorf("websocket: handshake: read: %w", err)
	}
	var want [acceptKeyLen]byte
	appendAcceptKey(want[:0], key[:])
	if err := checkResponse(buf[:headLen-2], buf[headLen:n], want[:]); err != nil {
		return nil, err
	}
	if n == headLen {
		return nil, nil
	}
	return buf[headLen:n], nil
}

// badHeaderValue reports whether s holds a byte that would break a header.
func badHeaderValue(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

// appendClientRequest appends the upgrade request.
func appendClientRequest(b, key []byte, host, path, origin string) []byte {
	b = append(b, "GET "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	b = append(b, key...)
	b = append(b, "\r\nSec-WebSocket-Version: 13\r\n"...)
	if origin != "" {
		b = append(b, "Origin: "...)
		b = append(b, origin...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

// checkResponse validates the answer head (status line and header lines,
// each ending in CRLF); body is what followed the head, quoted in errors.
func checkResponse(head, body, wantAccept []byte) error {
	status, rest := nextLine(head)
	proto, code, _ := bytes.Cut(status, []byte(" "))
	code, _, _ = bytes.Cut(code, []byte(" "))
	if !bytes.HasPrefix(proto, []byte("HTTP/1.")) || len(code) != 3 {
		return fmt.Errorf("%w: malformed status line %q", ErrBadResponse, clip(status))
	}
	if string(code) != "101" {
		line, _, _ := bytes.Cut(body, []byte("\n"))
		return fmt.Errorf("%w: %s: %s", ErrBadStatus, clip(status), clip(bytes.TrimSpace(line)))
	}
	var upgradeWS, connUpgrade, accepted bool
	for len(rest) > 0 {
		var line []byte
		line, rest = nextLine(rest)
		name, value, ok := splitHeader(line)
		switch {
		case !ok:
			return fmt.Errorf("%w: malformed header line %q", ErrBadResponse, clip(line))
		case equalFold(name, "Upgrade"):
			upgradeWS = upgradeWS || hasToken(value, "websocket")
		case equalFold(name, "Connection"):
			connUpgrade = connUpgrade || hasToken(value, "upgrade")
		case equalFold(name, "Sec-WebSocket-Accept"):
			accepted = bytes.Equal(value, wantAccept)
		case equalFold(name, "Sec-WebSocket-Extensions"), equalFold(name, "Sec-WebSocket-Protocol"):
			return fmt.Errorf("%w: server chose %s we did not offer", ErrBadResponse, name)
		}
	}
	switch {
	case !upgradeWS:
		return fmt.Errorf("%w: missing Upgrade: websocket", ErrBadResponse)
	case !connUpgrade:
		return fmt.Errorf("%w: Connection header lacks Upgrade", ErrBadResponse)
	case !accepted:
		return fmt.Errorf("%w: missing or wrong Sec-WebSocket-Accept", ErrBadResponse)
	}
	return nil
}

// clip shortens b to at most 200 bytes for an error message.
func clip(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// DialConfig configures Dial. The zero value dials without Origin header,
// with default TLS settings and a default ConnConfig.
type DialConfig struct {
	// Origin is sent as the Origin header; "" sends none.
	Origin string
	// TLSConfig is used for wss:// URLs; nil means an empty config. It is
	// cloned, and ServerName defaults to the URL's host name.
	TLSConfig *tls.Config
	// Conn configures the returned connection.
	Conn ConnConfig
}

// Dial connects to a ws:// or wss:// URL, runs the opening handshake and
// returns a client-role Conn. ctx bounds the TCP connect, the TLS handshake
// and the WebSocket handshake; it does not affect the returned Conn.
func Dial(ctx context.Context, rawURL string, cfg DialConfig) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	port := "80"
	switch u.Scheme {
	case "ws":
	case "wss":
		port = "443"
	default:
		return nil, fmt.Errorf("%w: scheme %q is not ws or wss", ErrBadURL, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%w: no host in %q", ErrBadURL, rawURL)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, fmt.Errorf("websocket: dial: %w", err)
	}
	if u.Scheme == "wss" {
		if nc, err = clientTLS(ctx, nc, cfg.TLSConfig, u.Hostname()); err != nil {
			return nil, err
		}
	}
	leftover, err := handshakeContext(ctx, nc, u.Host, u.RequestURI(), cfg.Origin)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return NewClientConn(nc, leftover, cfg.Conn), nil
}

// clientTLS runs the TLS handshake over nc, closing nc on failure.
func clientTLS(ctx context.Context, nc net.Conn, cfg *tls.Config, host string) (net.Conn, error) {
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("websocket: tls handshake: %w", err)
	}
	return tc, nil
}

// handshakeContext runs ClientHandshake on nc within ctx: ctx's deadline and
// cancellation become nc's deadline, cleared again on success.
func handshakeContext(ctx context.Context, nc net.Conn, host, path, origin string) ([]byte, error) {
	if d, ok := ctx.Deadline(); ok {
		nc.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	leftover, err := ClientHandshake(nc, nil, host, path, origin)
	if stopped := stop(); err != nil || !stopped {
		if cerr := contextError(ctx); cerr != nil {
			return nil, fmt.Errorf("websocket: handshake: %w", cerr)
		}
	}
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return leftover, nil
}

// contextError returns ctx's error, or context.DeadlineExceeded when its
// deadline passed but its timer has not fired yet (the connection's
// deadline, set to the same instant, may fire first).
func contextError(ctx context.Context) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}
