package rpc

import (
	"bytes"
	"context"
	"errors"
	"github.com/goimx/goim/internal/testwait"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var (
	secretA = []byte("0123456789abcdef-cluster-secret-A")
	secretB = []byte("0123456789abcdef-cluster-secret-B")
)

// guarded is a server whose handlers record that they ran.
type guarded struct {
	*testServer
	ran atomic.Int64 // calls and one-way messages handled
}

func startGuarded(t *testing.T, cfg ServerConfig) *guarded {
	t.Helper()
	g := &guarded{}
	g.testServer = startServer(t, "", cfg, nil, func(s *Server) {
		s.Handle(1, func(_ context.Context, req, reply []byte) ([]byte, error) {
			g.ran.Add(1)
			return append(reply, req...), nil
		})
		s.HandleOneway(2, func(context.Context, []byte) error { g.ran.Add(1); return nil })
	})
	return g
}

// dialRaw opens a plain TCP connection to addr, closed by the cleanup.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// expectClosed checks the server closes nc: a read ends with EOF or a
// reset, not with our deadline, and returns what was read before.
func expectClosed(t *testing.T, nc net.Conn) []byte {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(nc)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server did not close the connection")
	}
	return b
}

func waitAuthFailures(t *testing.T, s *testServer, n uint64) {
	t.Helper()
	testwait.For(t, 10*time.Second, "auth failures counted", func() bool { return s.Stats().AuthFailures == n })
}

// TestAnonymousFrameRefused: a peer that sends frames without the
// handshake to a server with a secret is closed before any handler runs,
// and counted.
func TestAnonymousFrameRefused(t *testing.T) {
	for name, kind := range map[string]Kind{"call": KindCall, "oneway": KindOneway} {
		t.Run(name, func(t *testing.T) {
			s := startGuarded(t, ServerConfig{Secret: secretA})
			nc := dialRaw(t, s.addr)
			method := uint16(1)
			if kind == KindOneway {
				method = 2
			}
			var frames []byte
			for range 3 {
				frames = appendFrame(frames, header{kind: kind, method: method, seq: 1}, []byte("push to everyone"))
			}
			if _, err := nc.Write(frames); err != nil {
				t.Fatal(err)
			}
			if got := expectClosed(t, nc); len(got) != 0 {
				t.Errorf("server answered % x", got)
			}
			waitAuthFailures(t, s.testServer, 1)
			if n := s.ran.Load(); n != 0 {
				t.Fatalf("handlers ran %d times", n)
			}
			if st := s.Stats(); st.FramesIn != 0 {
				t.Errorf("FramesIn = %d, want 0", st.FramesIn)
			}
		})
	}
}

// TestSecretMismatch: every pairing of secrets but equal ones fails at
// connect time in both directions: no handler runs, the server counts the
// refusal, and a client with a secret counts its failed handshake.
func TestSecretMismatch(t *testing.T) {
	tests := []struct {
		name           string
		server, client []byte
	}{
		{"different secrets", secretA, secretB},
		{"client without secret", secretA, nil},
		{"server without secret", nil, secretA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startGuarded(t, ServerConfig{Secret: tt.server})
			c := newTestClient(t, s.addr, ClientConfig{Secret: tt.client, MinBackoff: time.Hour, MaxBackoff: time.Hour})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := c.Call(ctx, 1, []byte("x"), nil); err == nil {
				t.Fatal("call succeeded")
			}
			c.Send(ctx, 2, []byte("x"))
			waitAuthFailures(t, s.testServer, 1)
			if tt.client != nil {
				if st := c.Stats(); st.AuthFailures != 1 || st.Connected {
					t.Errorf("client stats %+v, want 1 auth failure and no connection", st)
				}
			}
			if n := s.ran.Load(); n != 0 {
				t.Fatalf("handlers ran %d times", n)
			}
		})
	}
}

// TestSecretMatch: with the same secret on both sides calls and one-way
// messages work and nothing is counted as a failure.
func TestSecretMatch(t *testing.T) {
	s := startGuarded(t, ServerConfig{Secret: secretA})
	c := newTestClient(t, s.addr, ClientConfig{Secret: bytes.Clone(secretA)})
	ctx := testCtx(t)
	got, err := c.Call(ctx, 1, []byte("hello"), nil)
	if err != nil || string(got) != "hello" {
		t.Fatalf("Call = %q, %v", got, err)
	}
	if err := c.Send(ctx, 2, nil); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "one-way handled", func() bool { return s.ran.Load() == 2 })
	if st := s.Stats(); st.AuthFailures != 0 {
		t.Errorf("server AuthFailures = %d", st.AuthFailures)
	}
	if st := c.Stats(); st.AuthFailures != 0 {
		t.Errorf("client AuthFailures = %d", st.AuthFailures)
	}
}

// handshakeRaw runs the client's side of the handshake by hand on nc
// with nonce, and sends proof(serverNonce) as the proof. It returns the
// server's nonce.
func handshakeRaw(t *testing.T, nc net.Conn, nonce []byte, proof func(serverNonce []byte) []byte) []byte {
	t.Helper()
	if _, err := nc.Write(appendHello(nil, nonce)); err != nil {
		t.Fatal(err)
	}
	hello := make([]byte, helloLen)
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(nc, hello); err != nil {
		t.Fatal(err)
	}
	serverNonce, err := parseHello(hello)
	if err != nil {
		t.Fatal(err)
	}
	serverNonce = bytes.Clone(serverNonce)
	if _, err := nc.Write(proof(serverNonce)); err != nil {
		t.Fatal(err)
	}
	return serverNonce
}

// TestReplayedProof: a proof recorded from a good handshake is refused on
// a new connection that offers the same client nonce: the server's nonce
// is fresh.
func TestReplayedProof(t *testing.T) {
	s := startGuarded(t, ServerConfig{Secret: secretA})
	nonce := bytes.Repeat([]byte{7}, nonceLen)
	var recorded []byte
	good := dialRaw(t, s.addr)
	ns1 := handshakeRaw(t, good, nonce, func(ns []byte) []byte {
		recorded = authMAC(secretA, clientLabel, nonce, ns, nil)
		return recorded
	})
	serverProof := make([]byte, macLen)
	if _, err := io.ReadFull(good, serverProof); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(serverProof, authMAC(secretA, serverLabel, nonce, ns1, nil)) {
		t.Fatal("wrong server proof on a good handshake")
	}
	if _, err := good.Write(appendFrame(nil, header{kind: KindOneway, method: 2}, nil)); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "authenticated frame handled", func() bool { return s.ran.Load() == 1 })

	replay := dialRaw(t, s.addr)
	ns2 := handshakeRaw(t, replay, nonce, func([]byte) []byte { return recorded })
	if bytes.Equal(ns1, ns2) {
		t.Fatal("server nonce repeated")
	}
	replay.Write(appendFrame(nil, header{kind: KindOneway, method: 2}, nil))
	if got := expectClosed(t, replay); len(got) != 0 {
		t.Errorf("server answered a replayed proof with % x", got)
	}
	waitAuthFailures(t, s.testServer, 1)
	if n := s.ran.Load(); n != 1 {
		t.Fatalf("handlers ran %d times, want 1 (the good connection's)", n)
	}
}

// TestReflectedProofToServer: a server-labelled proof over the right
// transcript (what a reflecting attacker could obtain) is no client proof.
func TestReflectedProofToServer(t *testing.T) {
	s := startGuarded(t, ServerConfig{Secret: secretA})
	nc := dialRaw(t, s.addr)
	nonce := bytes.Repeat([]byte{9}, nonceLen)
	handshakeRaw(t, nc, nonce, func(ns []byte) []byte { return authMAC(secretA, serverLabel, nonce, ns, nil) })
	if got := expectClosed(t, nc); len(got) != 0 {
		t.Errorf("server answered a reflected proof with % x", got)
	}
	waitAuthFailures(t, s.testServer, 1)
}

// fakeServer accepts one connection and plays the server's side of the
// handshake with play, then holds the connection until the test ends.
func fakeServer(t *testing.T, play func(nc net.Conn, clientHello []byte)) string {
	t.Helper()
	ln := listenRetry(t, "127.0.0.1:0")
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		hello := make([]byte, helloLen)
		if _, err := io.ReadFull(nc, hello); err != nil {
			return
		}
		play(nc, hello)
		io.Copy(io.Discard, nc) // until the client closes
	}()
	return ln.Addr().String()
}

// TestReflectionToClient: a server without the secret that reflects the
// client's own hello, or the client's own proof, is refused by the client.
func TestReflectionToClient(t *testing.T) {
	tests := []struct {
		name string
		play func(nc net.Conn, clientHello []byte)
	}{
		{"reflected hello", func(nc net.Conn, hello []byte) {
			nc.Write(hello)
			proof := make([]byte, macLen)
			if _, err := io.ReadFull(nc, proof); err == nil {
				nc.Write(proof)
			}
		}},
		{"reflected proof", func(nc net.Conn, hello []byte) {
			nc.Write(appendHello(nil, bytes.Repeat([]byte{1}, nonceLen)))
			proof := make([]byte, macLen)
			if _, err := io.ReadFull(nc, proof); err == nil {
				nc.Write(proof)
			}
		}},
		{"garbage", func(nc net.Conn, _ []byte) { nc.Write(bytes.Repeat([]byte{0xff}, helloLen+macLen)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := fakeServer(t, tt.play)
			c := newTestClient(t, addr, ClientConfig{Secret: secretA, MinBackoff: time.Hour, MaxBackoff: time.Hour})
			_, err := c.Call(testCtx(t), 1, nil, nil)
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("Call err = %v, want ErrAuth", err)
			}
			if st := c.Stats(); st.AuthFailures != 1 {
				t.Errorf("AuthFailures = %d, want 1", st.AuthFailures)
			}
		})
	}
}

// TestHandshakeDeadlineAndGarbage: a peer that is silent, stops within
// the hello or sends garbage is closed within the handshake deadline and
// counted.
func TestHandshakeDeadlineAndGarbage(t *testing.T) {
	tests := []struct {
		name string
		send []byte
	}{
		{"silent", nil},
		{"half a hello", appendHello(nil, make([]byte, nonceLen))[:20]},
		{"hello without proof", appendHello(nil, make([]byte, nonceLen))},
		{"garbage", bytes.Repeat([]byte("GET / HTTP/1.1\r\n"), 8)},
		{"wrong version", append([]byte(authMagic), append([]byte{2}, make([]byte, nonceLen+macLen)...)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startGuarded(t, ServerConfig{Secret: secretA, HandshakeTimeout: 100 * time.Millisecond})
			nc := dialRaw(t, s.addr)
			if _, err := nc.Write(tt.send); err != nil {
				t.Fatal(err)
			}
			expectClosed(t, nc)
			waitAuthFailures(t, s.testServer, 1)
			testwait.For(t, 10*time.Second, "the connection forgotten", func() bool { return s.Stats().Conns == 0 })
		})
	}
}

func TestPingMethodReserved(t *testing.T) {
	s := NewServer(ServerConfig{}, discardLogger())
	for name, register := range map[string]func(){
		"Handle":       func() { s.Handle(PingMethod, echo) },
		"HandleOneway": func() { s.HandleOneway(PingMethod, func(context.Context, []byte) error { return nil }) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s(PingMethod) did not panic", name)
				}
			}()
			register()
		}()
	}
}

func TestCheckExposure(t *testing.T) {
	tests := []struct {
		addr                  string
		authenticated, unsafe bool
		wantErr               bool
	}{
		{"127.0.0.1:3109", false, false, false},
		{"127.0.0.5:3109", false, false, false},
		{"[::1]:3109", false, false, false},
		{"localhost:3109", false, false, false},
		{":3109", false, false, true},
		{"0.0.0.0:3109", false, false, true},
		{"[::]:3109", false, false, true},
		{"10.0.0.5:3109", false, false, true},
		{"comet-1.internal:3109", false, false, true},
		{"10.0.0.5:3109", true, false, false},
		{"10.0.0.5:3109", false, true, false},
		{":3109", true, true, false},
	}
	for _, tt := range tests {
		var logs logBuffer
		err := CheckExposure(tt.addr, tt.authenticated, tt.unsafe, newTextLogger(&logs))
		if (err != nil) != tt.wantErr {
			t.Errorf("CheckExposure(%q, %v, %v) = %v, want error %v", tt.addr, tt.authenticated, tt.unsafe, err, tt.wantErr)
		}
		if err != nil && (!errors.Is(err, ErrExposed) || !strings.Contains(err.Error(), "-cluster-secret-file") || !strings.Contains(err.Error(), "-insecure-rpc")) {
			t.Errorf("error %q does not name the flags", err)
		}
		warned := strings.Contains(logs.String(), "-insecure-rpc")
		if want := tt.unsafe && !tt.authenticated && tt.wantErr == false && !isLoopbackAddr(tt.addr); warned != want {
			t.Errorf("CheckExposure(%q, %v, %v) warned %v, want %v", tt.addr, tt.authenticated, tt.unsafe, warned, want)
		}
	}
}

func TestReadSecretFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := ReadSecretFile(write("good", string(secretA)+"\n"))
	if err != nil || !bytes.Equal(got, secretA) {
		t.Errorf("ReadSecretFile = %q, %v; want %q", got, err, secretA)
	}
	if _, err := ReadSecretFile(write("short", "short\n")); err == nil {
		t.Error("short secret accepted")
	}
	if _, err := ReadSecretFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}
