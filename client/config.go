package client

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/goimx/goim/protocol"
)

// Transports accepted in Config.Transport.
const (
	// TransportTCP is the plain TCP transport (comet's port 3101 by default).
	TransportTCP = "tcp"
	// TransportTLS is TCP wrapped in TLS.
	TransportTLS = "tcp+tls"
	// TransportWS is WebSocket on path /sub (port 3102 by default).
	TransportWS = "ws"
	// TransportWSS is WebSocket over TLS (port 3103 by default).
	TransportWSS = "wss"
)

// Defaults applied where a Config field is zero.
const (
	// DefaultDialTimeout bounds Dial: connect, TLS and WebSocket handshakes
	// and the auth round trip.
	DefaultDialTimeout = 10 * time.Second
	// DefaultWriteTimeout bounds each write to the connection.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultMaxMessage is the largest WebSocket message accepted (one
	// outer packet, typically an op-9 batch).
	DefaultMaxMessage = 64 << 10
	// wsPath is the comet's WebSocket endpoint.
	wsPath = "/sub"
)

// Errors returned by Dial and Conn methods, usually wrapped with detail;
// check them with errors.Is. Decoding errors wrap the protocol package's
// sentinels (protocol.ErrPacketLen, protocol.ErrHeaderLen,
// protocol.ErrBodyTooLarge, protocol.ErrTruncated).
var (
	// ErrTransport reports a Config.Transport this package does not know,
	// or an Addr that does not suit it.
	ErrTransport = errors.New("client: bad transport or address")
	// ErrAuth reports that the server did not accept the auth packet: it
	// closed the connection or answered with something other than the
	// auth reply.
	ErrAuth = errors.New("client: auth refused")
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("client: connection closed")
	// ErrNotBinary reports a WebSocket text message; the protocol only
	// uses binary messages.
	ErrNotBinary = errors.New("client: websocket message is not binary")
)

// Token is the auth token, sent as JSON in the body of the auth packet
// (op 7). The JSON field names are those of goim's protocol.
type Token struct {
	// Mid is the user id; 0 is anonymous.
	Mid int64 `json:"mid"`
	// Key is the connection key; empty lets the server assign one (it is
	// not told back). Connecting again with the same key replaces the
	// older connection.
	Key string `json:"key"`
	// RoomID is the room to join, "type://id" (e.g. "live://1000"); empty
	// joins none.
	RoomID string `json:"room_id"`
	// Platform is "web", "android" or "ios".
	Platform string `json:"platform"`
	// Accepts lists the push operations this connection wants to receive
	// by key, mid or broadcast; nil is sent as an empty list.
	Accepts []int32 `json:"accepts"`
	// Rooms names rooms to join besides RoomID, the primary room; a
	// server's limit (16 by default, primary included) refuses a token
	// naming more. Not part of goim's protocol; omitted when empty.
	Rooms []string `json:"rooms,omitempty"`
}

// Config configures Dial. Every field's zero value is usable except Addr.
type Config struct {
	// Transport is TransportTCP, TransportTLS, TransportWS or
	// TransportWSS. Empty means TransportTCP, or the scheme of Addr when
	// Addr is a ws:// or wss:// URL.
	Transport string
	// Addr is the server's host:port. For WebSocket transports it may also
	// be a full URL (ws://host:port/sub); a host:port gets path /sub.
	Addr string
	// Token is sent in the auth packet, as JSON, unless SignedToken is
	// set.
	Token Token
	// SignedToken, when not empty, is sent as the auth packet's body
	// instead of Token: the token your backend minted, as logic requires
	// when it runs with a token secret (an HS256 JWT, docs/client.md).
	SignedToken string
	// Heartbeat, when positive, makes the Conn send a heartbeat (op 2)
	// every Heartbeat, from a runtime timer (no goroutine), until Close or
	// a write error. Zero sends none: call Conn.Heartbeat, or use a
	// Heartbeater for many connections.
	Heartbeat time.Duration
	// DialTimeout bounds all of Dial (connect, handshakes, auth reply);
	// zero means DefaultDialTimeout. The context given to Dial can end it
	// sooner.
	DialTimeout time.Duration
	// WriteTimeout bounds each write; zero means DefaultWriteTimeout,
	// negative means no bound. A write that times out leaves the
	// connection unusable.
	WriteTimeout time.Duration
	// TLSConfig configures TransportTLS and TransportWSS; nil means a
	// default config. An empty ServerName is taken from Addr's host.
	TLSConfig *tls.Config
	// MaxBody is the largest body of one packet, sent or received; zero
	// means protocol.DefaultMaxBody. It must match the server's limit.
	MaxBody int
	// MaxMessage is the largest WebSocket message (one outer packet with
	// its header, typically an op-9 batch); zero means DefaultMaxMessage.
	// TCP batches are read as a stream and need no such limit.
	MaxMessage int
	// Origin is the WebSocket Origin header; empty means "http://" + the
	// server's host:port.
	Origin string
	// LocalAddr is the local IP address to dial from (e.g. "127.0.0.7", so
	// that a load generator can spread its connections over many source
	// addresses); empty lets the system choose.
	LocalAddr string
}

// settings is a Config with defaults applied and the address resolved.
type settings struct {
	Config
	dialAddr string // host:port to connect to
	wsPath   string // WebSocket request path with query; empty for TCP transports
}

// resolve applies the defaults and checks the transport and address.
func (cfg Config) resolve() (settings, error) {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = protocol.DefaultMaxBody
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = DefaultMaxMessage
	}
	scheme, rest, isURL := strings.Cut(cfg.Addr, "://")
	if !isURL {
		scheme, rest = "", cfg.Addr
	}
	if cfg.Transport == "" {
		cfg.Transport = TransportTCP
		if scheme == TransportWS || scheme == TransportWSS {
			cfg.Transport = scheme
		}
	}
	s := settings{Config: cfg}
	switch cfg.Transport {
	case TransportTCP, TransportTLS:
		if isURL {
			return s, fmt.Errorf("%w: %s needs host:port, not %q", ErrTransport, cfg.Transport, cfg.Addr)
		}
		s.dialAddr = cfg.Addr
	case TransportWS, TransportWSS:
		if isURL && scheme != cfg.Transport {
			return s, fmt.Errorf("%w: transport %s with address %q", ErrTransport, cfg.Transport, cfg.Addr)
		}
		hostPort, path, _ := strings.Cut(rest, "/")
		s.dialAddr = hostPort
		s.wsPath = "/" + path
		if path == "" {
			s.wsPath = wsPath
		}
	default:
		return s, fmt.Errorf("%w: unknown transport %q", ErrTransport, cfg.Transport)
	}
	if _, _, err := net.SplitHostPort(s.dialAddr); err != nil {
		return s, fmt.Errorf("%w: address %q: %v", ErrTransport, cfg.Addr, err)
	}
	return s, nil
}
