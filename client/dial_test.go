package client

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/goimx/goim/internal/testcert"
	"github.com/goimx/goim/protocol"
)

var allTransports = []string{TransportTCP, TransportWS, TransportTLS, TransportWSS}

// dialTransport starts a fake server for transport with handle and returns
// a Config to reach it.
func dialTransport(t *testing.T, transport string, handle func(sc *serverConn)) (*fakeServer, Config) {
	t.Helper()
	var srvTLS, cliTLS *tls.Config
	if transport == TransportTLS || transport == TransportWSS {
		cert := testcert.New(t)
		srvTLS, cliTLS = cert.Server, cert.Client()
	}
	s := newFakeServer(t, transport, srvTLS, handle)
	cfg := s.Config()
	cfg.TLSConfig = cliTLS
	return s, cfg
}

func TestDialAuth(t *testing.T) {
	token := Token{Mid: 123, Key: "k1", RoomID: "live://1000", Platform: "web", Accepts: []int32{1000, 1001}}
	wantAuth := protocol.Packet{Ver: 1, Op: protocol.OpAuth, Seq: 1,
		Body: []byte(`{"mid":123,"key":"k1","room_id":"live://1000","platform":"web","accepts":[1000,1001]}`)}
	tests := []struct {
		name    string
		handle  func(sc *serverConn) error // after the auth packet was read
		timeout time.Duration
		wantErr error // nil: Dial succeeds
	}{
		{name: "accepted", handle: func(sc *serverConn) error {
			return sc.reply(protocol.OpAuthReply, 1, nil)
		}},
		{name: "closed", handle: func(sc *serverConn) error { return nil }, wantErr: ErrAuth},
		{name: "other op", handle: func(sc *serverConn) error {
			return sc.reply(protocol.OpHeartbeatReply, 1, []byte{0, 0, 0, 1})
		}, wantErr: ErrAuth},
		{name: "no reply", handle: func(sc *serverConn) error {
			_, err := sc.readPacket() // blocks until the client gives up
			return err
		}, timeout: 300 * time.Millisecond, wantErr: context.DeadlineExceeded},
	}
	for _, transport := range allTransports {
		for _, tt := range tests {
			t.Run(transport+"/"+tt.name, func(t *testing.T) {
				got := make(chan protocol.Packet, 1)
				_, cfg := dialTransport(t, transport, func(sc *serverConn) {
					p, err := sc.readPacket()
					if err != nil {
						return
					}
					got <- p
					tt.handle(sc)
				})
				cfg.Token = token
				if tt.timeout > 0 {
					cfg.DialTimeout = tt.timeout
				}
				c, err := Dial(context.Background(), cfg)
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("Dial error = %v, want %v", err, tt.wantErr)
					}
				} else if err != nil {
					t.Fatalf("Dial: %v", err)
				} else {
					defer c.Close()
				}
				if diff := cmp.Diff(wantAuth, <-got); diff != "" {
					t.Errorf("auth packet (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestDialEmptyAccepts(t *testing.T) {
	got := make(chan protocol.Packet, 1)
	_, cfg := dialTransport(t, TransportTCP, func(sc *serverConn) {
		p, _, err := sc.acceptAuth()
		got <- p
		if err == nil {
			sc.serve(0, nil)
		}
	})
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := `{"mid":0,"key":"","room_id":"","platform":"","accepts":[]}`
	if p := <-got; string(p.Body) != want {
		t.Errorf("auth body = %s, want %s", p.Body, want)
	}
}

// TestDialSignedToken: SignedToken is sent as the auth body as is.
func TestDialSignedToken(t *testing.T) {
	got := make(chan protocol.Packet, 1)
	_, cfg := dialTransport(t, TransportTCP, func(sc *serverConn) {
		p, err := sc.readPacket()
		if err != nil {
			return
		}
		got <- p
		if sc.reply(protocol.OpAuthReply, p.Seq, nil) == nil {
			sc.serve(0, nil)
		}
	})
	cfg.Token = Token{Mid: 1}
	cfg.SignedToken = "eyJhbGciOiJIUzI1NiJ9.eyJtaWQiOjEsImV4cCI6MX0.c2ln"
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := <-got; string(p.Body) != cfg.SignedToken {
		t.Errorf("auth body = %s, want %s", p.Body, cfg.SignedToken)
	}
}

func TestDialCancel(t *testing.T) {
	_, cfg := dialTransport(t, TransportTCP, func(sc *serverConn) {
		sc.readPacket() // auth
		sc.readPacket() // blocks until the client goes away
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := Dial(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial error = %v, want context.Canceled", err)
	}
}

func TestDialRefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := Dial(context.Background(), Config{Addr: addr}); err == nil {
		t.Fatal("Dial to a closed port succeeded")
	}
}

func TestDialWebSocketRefused(t *testing.T) {
	// A TCP server that answers the upgrade request with garbage.
	_, cfg := dialTransport(t, TransportTCP, func(sc *serverConn) {
		sc.nc.Write([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
		io.Copy(io.Discard, sc.nc)
	})
	cfg.Transport = TransportWS
	if _, err := Dial(context.Background(), cfg); err == nil || errors.Is(err, ErrAuth) {
		t.Fatalf("Dial error = %v, want a handshake error", err)
	}
}

func TestLocalAddr(t *testing.T) {
	for _, transport := range []string{TransportTCP, TransportWS} {
		t.Run(transport, func(t *testing.T) {
			remote := make(chan string, 1)
			_, cfg := dialTransport(t, transport, func(sc *serverConn) {
				remote <- sc.nc.RemoteAddr().(*net.TCPAddr).IP.String()
				if _, _, err := sc.acceptAuth(); err == nil {
					sc.serve(0, nil)
				}
			})
			cfg.LocalAddr = "127.0.0.2"
			c, err := Dial(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := <-remote; got != "127.0.0.2" {
				t.Errorf("server saw the client at %s, want 127.0.0.2", got)
			}
			if got := c.LocalAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.2" {
				t.Errorf("LocalAddr = %s, want 127.0.0.2", got)
			}
		})
	}
}

func TestWebSocketOrigin(t *testing.T) {
	tests := []struct{ origin, want string }{
		{"", "http://"},
		{"https://example.com", "https://example.com"},
	}
	for _, tt := range tests {
		origin := make(chan string, 1)
		_, cfg := dialTransport(t, TransportWS, func(sc *serverConn) {
			origin <- sc.origin
			if _, _, err := sc.acceptAuth(); err == nil {
				sc.serve(0, nil)
			}
		})
		cfg.Origin = tt.origin
		c, err := Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := tt.want
		if tt.origin == "" {
			want += cfg.Addr
		}
		if got := <-origin; got != want {
			t.Errorf("Origin = %q, want %q", got, want)
		}
		c.Close()
	}
}

func TestConfigResolve(t *testing.T) {
	tests := []struct {
		cfg       Config
		transport string
		dialAddr  string
		wsPath    string
		wantErr   bool
	}{
		{cfg: Config{Addr: "127.0.0.1:3101"}, transport: "tcp", dialAddr: "127.0.0.1:3101"},
		{cfg: Config{Transport: "tcp+tls", Addr: "h:3101"}, transport: "tcp+tls", dialAddr: "h:3101"},
		{cfg: Config{Transport: "ws", Addr: "h:3102"}, transport: "ws", dialAddr: "h:3102", wsPath: "/sub"},
		{cfg: Config{Addr: "ws://h:3102/sub"}, transport: "ws", dialAddr: "h:3102", wsPath: "/sub"},
		{cfg: Config{Addr: "wss://h:3103/other?x=1"}, transport: "wss", dialAddr: "h:3103", wsPath: "/other?x=1"},
		{cfg: Config{Transport: "wss", Addr: "wss://h:3103"}, transport: "wss", dialAddr: "h:3103", wsPath: "/sub"},
		{cfg: Config{Transport: "ws", Addr: "wss://h:3103"}, wantErr: true},
		{cfg: Config{Transport: "tcp", Addr: "ws://h:3102"}, wantErr: true},
		{cfg: Config{Transport: "udp", Addr: "h:1"}, wantErr: true},
		{cfg: Config{Addr: "no-port"}, wantErr: true},
	}
	for _, tt := range tests {
		s, err := tt.cfg.resolve()
		if tt.wantErr {
			if !errors.Is(err, ErrTransport) {
				t.Errorf("resolve(%+v) error = %v, want ErrTransport", tt.cfg, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("resolve(%+v): %v", tt.cfg, err)
			continue
		}
		if s.Transport != tt.transport || s.dialAddr != tt.dialAddr || s.wsPath != tt.wsPath {
			t.Errorf("resolve(%+v) = %q %q %q, want %q %q %q", tt.cfg, s.Transport, s.dialAddr, s.wsPath, tt.transport, tt.dialAddr, tt.wsPath)
		}
		if s.MaxBody != protocol.DefaultMaxBody || s.DialTimeout != DefaultDialTimeout || s.WriteTimeout != DefaultWriteTimeout {
			t.Errorf("resolve(%+v): defaults not applied: %+v", tt.cfg, s.Config)
		}
	}
	if _, err := Dial(context.Background(), Config{Addr: "127.0.0.1:1", LocalAddr: "nonsense"}); !errors.Is(err, ErrTransport) {
		t.Errorf("Dial with a bad LocalAddr: %v, want ErrTransport", err)
	}
}
