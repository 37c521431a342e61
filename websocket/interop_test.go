package websocket

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	xws "golang.org/x/net/websocket"
)

// testServer accepts loopback connections, runs ServerHandshake and hands
// each Conn to handle. Cleanup closes everything and waits.
type testServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex // guards conns
	conns []net.Conn
}

// startServer starts a testServer; handshake errors go to errs when set.
func startServer(t *testing.T, cfg *HandshakeConfig, handle func(*Conn), errs chan<- error) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{ln: ln}
	s.wg.Add(1)
	go s.acceptLoop(cfg, handle, errs)
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *testServer) acceptLoop(cfg *HandshakeConfig, handle func(*Conn), errs chan<- error) {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, nc)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			_, leftover, err := ServerHandshake(nc, make([]byte, 4096), cfg)
			if errs != nil {
				errs <- err
			}
			if err != nil {
				return
			}
			nc.SetDeadline(time.Time{})
			handle(NewServerConn(nc, leftover, ConnConfig{MaxMessageSize: 1 << 20}))
		}()
	}
}

func (s *testServer) addr() string { return s.ln.Addr().String() }

// echo answers every message with the same opcode and payload and returns
// the error that ended reading through done, if set.
func echo(done chan<- error) func(*Conn) {
	return func(c *Conn) {
		var buf []byte
		for {
			op, msg, err := c.ReadMessage(buf[:0])
			if err != nil {
				if done != nil {
					done <- err
				}
				return
			}
			buf = msg
			if err := c.WriteMessage(op, msg); err != nil {
				return
			}
		}
	}
}

// TestInteropXNetClientOurServer: golang.org/x/net/websocket as the client,
// our handshake and Conn as the server, over loopback.
func TestInteropXNetClientOurServer(t *testing.T) {
	done := make(chan error, 1)
	cfg := &HandshakeConfig{Path: "/sub", AllowedOrigins: []string{"http://127.0.0.1"}}
	s := startServer(t, cfg, echo(done), nil)
	ws, err := xws.Dial("ws://"+s.addr()+"/sub?token=1", "", "http://127.0.0.1")
	if err != nil {
		t.Fatalf("x/net Dial: %v", err)
	}
	defer ws.Close()
	for _, text := range []string{"", "héllo", strings.Repeat("x", 70000)} {
		if err := xws.Message.Send(ws, text); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := xws.Message.Receive(ws, &got); err != nil || got != text {
			t.Fatalf("text echo of %d bytes: got %d bytes, %v", len(text), len(got), err)
		}
	}
	bin := bytes.Repeat([]byte{0, 0xff, 7}, 1000)
	if err := xws.Message.Send(ws, bin); err != nil {
		t.Fatal(err)
	}
	var got []byte
	if err := xws.Message.Receive(ws, &got); err != nil || !bytes.Equal(got, bin) {
		t.Fatalf("binary echo: %d bytes, %v", len(got), err)
	}
	ws.Close() // sends close 1000
	var cerr *CloseError
	if err := <-done; !errors.As(err, &cerr) || cerr.Code != CloseNormal {
		t.Fatalf("server read ended with %v, want close 1000", err)
	}
}

func TestInteropXNetClientRefused(t *testing.T) {
	errs := make(chan error, 2)
	cfg := &HandshakeConfig{Path: "/sub", AllowedOrigins: []string{"http://127.0.0.1"}}
	s := startServer(t, cfg, echo(nil), errs)
	if _, err := xws.Dial("ws://"+s.addr()+"/other", "", "http://127.0.0.1"); err == nil {
		t.Error("x/net Dial to a wrong path succeeded")
	}
	if err := <-errs; !errors.Is(err, ErrPathNotFound) {
		t.Errorf("server: %v, want ErrPathNotFound", err)
	}
	if _, err := xws.Dial("ws://"+s.addr()+"/sub", "", "http://evil.example"); err == nil {
		t.Error("x/net Dial with a refused origin succeeded")
	}
	if err := <-errs; !errors.Is(err, ErrOriginRefused) {
		t.Errorf("server: %v, want ErrOriginRefused", err)
	}
}

// xnetEcho is an x/net handler echoing each frame with its payload type.
func xnetEcho(ws *xws.Conn) {
	defer ws.Close()
	type msg struct {
		data []byte
		typ  byte
	}
	codec := xws.Codec{
		Marshal: func(v any) ([]byte, byte, error) { m := v.(*msg); return m.data, m.typ, nil },
		Unmarshal: func(data []byte, typ byte, v any) error {
			m := v.(*msg)
			m.data, m.typ = data, typ
			return nil
		},
	}
	for {
		var m msg
		if err := codec.Receive(ws, &m); err != nil {
			return
		}
		if err := codec.Send(ws, &m); err != nil {
			return
		}
	}
}

// TestInteropOurDialXNetServer: our Dial and client Conn against an x/net
// server behind httptest, over ws:// and wss://.
func TestInteropOurDialXNetServer(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := "ws"
		if secure {
			name = "wss"
		}
		t.Run(name, func(t *testing.T) {
			var ts *httptest.Server
			cfg := DialConfig{Origin: "http://127.0.0.1", Conn: ConnConfig{MaxMessageSize: 1 << 20}}
			if secure {
				ts = httptest.NewTLSServer(xws.Handler(xnetEcho))
				pool := x509.NewCertPool()
				pool.AddCert(ts.Certificate())
				cfg.TLSConfig = &tls.Config{RootCAs: pool}
			} else {
				ts = httptest.NewServer(xws.Handler(xnetEcho))
			}
			defer ts.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := Dial(ctx, name+"://"+strings.TrimPrefix(ts.URL, "http"+strings.TrimPrefix(name, "ws")+"://")+"/echo?x=1", cfg)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close()
			exchange(t, c)
			if err := c.WriteClose(CloseNormal, "bye"); err != nil {
				t.Fatal(err)
			}
			// x/net does not answer a close frame; it ends the handler,
			// which sends its own close and drops the connection.
			_, _, err = c.ReadMessage(nil)
			var cerr *CloseError
			if !errors.As(err, &cerr) && !errors.Is(err, io.EOF) {
				t.Errorf("after close: %v, want the server's close or EOF", err)
			}
		})
	}
}

// exchange sends text, binary, a ping and a large message through an echo
// server and checks the answers.
func exchange(t *testing.T, c *Conn) {
	t.Helper()
	msgs := []message{{OpText, "hello"}, {OpBinary, "\x00\x01\x02"}, {OpText, ""},
		{OpBinary, strings.Repeat("big", 40000)}, {OpText, strings.Repeat("é", 3000)}}
	var buf []byte
	for i, m := range msgs {
		if i == 2 {
			if err := c.WriteMessage(OpPing, []byte("ping")); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.WriteMessage(m.op, []byte(m.payload)); err != nil {
			t.Fatal(err)
		}
		op, got, err := c.ReadMessage(buf[:0])
		if err != nil || op != m.op || string(got) != m.payload {
			t.Fatalf("echo %d: %v %d bytes, %v; want %v %d bytes", i, op, len(got), err, m.op, len(m.payload))
		}
		buf = got
	}
}

// TestLoopbackOurClientOurServer runs our Dial against our server with
// concurrent writers and pings, for the race detector.
func TestLoopbackOurClientOurServer(t *testing.T) {
	done := make(chan error, 1)
	s := startServer(t, &HandshakeConfig{Path: "/sub"}, echo(done), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, "ws://"+s.addr()+"/sub", DialConfig{Conn: ConnConfig{MaxMessageSize: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	exchange(t, c)
	const writers, each = 4, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				op, n := OpBinary, 100+i
				if i%10 == 0 {
					op, n = OpPing, i
				}
				if err := c.WriteMessage(op, bytes.Repeat([]byte{byte(w)}, n)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	want := writers * (each - each/10)
	c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second)) // fail, not hang
	var buf []byte
	for range want {
		op, msg, err := c.ReadMessage(buf[:0])
		if err != nil || op != OpBinary || len(msg) < 100 || bytes.Count(msg, msg[:1]) != len(msg) {
			t.Fatalf("read %v %d bytes, %v", op, len(msg), err)
		}
		buf = msg
	}
	wg.Wait()
	if err := c.WriteClose(CloseGoingAway, ""); err != nil {
		t.Fatal(err)
	}
	var cerr *CloseError
	if _, _, err := c.ReadMessage(nil); !errors.As(err, &cerr) || cerr.Code != CloseGoingAway {
		t.Errorf("client: %v, want the echoed close 1001", err)
	}
	if err := <-done; !errors.As(err, &cerr) || cerr.Code != CloseGoingAway {
		t.Errorf("server: %v, want close 1001", err)
	}
}

func TestDialErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, u := range []string{"http://127.0.0.1/", "ws:///path", "::bad"} {
		if _, err := Dial(ctx, u, DialConfig{}); !errors.Is(err, ErrBadURL) {
			t.Errorf("Dial(%q) = %v, want ErrBadURL", u, err)
		}
	}
	s := startServer(t, &HandshakeConfig{Path: "/sub"}, echo(nil), nil)
	_, err := Dial(ctx, "ws://"+s.addr()+"/nope", DialConfig{})
	if !errors.Is(err, ErrBadStatus) || !strings.Contains(err.Error(), "404") {
		t.Errorf("wrong path: %v, want ErrBadStatus with 404", err)
	}
}

// TestDialContextDeadline: a server that never answers the handshake is
// abandoned when ctx ends.
func TestDialContextDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			accepted <- nc
		}
		close(accepted)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = Dial(ctx, "ws://"+ln.Addr().String()+"/", DialConfig{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial = %v, want context.DeadlineExceeded", err)
	}
	if nc, ok := <-accepted; ok {
		nc.Close()
	}
}
