package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
)

// blocker is a handler that signals entry and waits for release or its
// context.
type blocker struct {
	entered chan struct{}
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (b *blocker) handle(ctx context.Context, req, reply []byte) ([]byte, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
		return append(reply, "released"...), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// callAsync runs a call on its own goroutine and returns its result later.
func callAsync(c *Client, ctx context.Context, method uint16) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, method, nil, nil)
		done <- err
	}()
	return done
}

func waitErr(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		return nil
	}
}

// TestServerKilledMidCall: a pending call fails fast with ErrConnLost when
// the server dies; once a server listens on the same address again the
// client reconnects and calls succeed.
func TestServerKilledMidCall(t *testing.T) {
	b := newBlocker()
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, b.handle) })
	c := newTestClient(t, ts.addr, ClientConfig{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	ctx := testCtx(t)
	pending := callAsync(c, ctx, 1)
	<-b.entered
	ts.stop()
	if err := waitErr(t, pending, "the pending call"); !errors.Is(err, ErrConnLost) {
		t.Fatalf("pending call: %v, want ErrConnLost", err)
	}
	testwait.For(t, 5*time.Second, "a failed redial", func() bool { return c.Stats().DialErrors > 0 })
	_, err := c.Call(ctx, 1, nil, nil)
	if !errors.Is(err, ErrUnavailable) && !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("call while down: %v", err)
	}

	ts2 := startServer(t, ts.addr, ServerConfig{}, nil, func(s *Server) { s.Handle(1, echo) })
	testwait.For(t, 10*time.Second, "a call to succeed after the restart", func() bool {
		reply, err := c.Call(ctx, 1, []byte("back"), nil)
		return err == nil && string(reply) == "back"
	})
	if st := c.Stats(); st.ConnsLost != 1 || !st.Connected {
		t.Fatalf("stats %+v", st)
	}
	_ = ts2
}

// TestReconnectInBackground: the client redials on its own after losing
// the connection, without any call.
func TestReconnectInBackground(t *testing.T) {
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, echo) })
	c := newTestClient(t, ts.addr, ClientConfig{MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if c.Connected() {
		t.Fatal("connected before first use")
	}
	if _, err := c.Call(testCtx(t), 1, nil, nil); err != nil {
		t.Fatal(err)
	}
	ts.stop()
	testwait.For(t, 5*time.Second, "the loss to be seen", func() bool { return !c.Connected() })
	startServer(t, ts.addr, ServerConfig{}, nil, nil)
	testwait.For(t, 10*time.Second, "a background reconnect", c.Connected)
}

// TestUnavailableFailsFast: with nothing listening, the first call reports
// the dial error; calls during the backoff fail at once with
// ErrUnavailable wrapping it.
func TestUnavailableFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newTestClient(t, addr, ClientConfig{MinBackoff: time.Hour, MaxBackoff: time.Hour})
	ctx := testCtx(t)
	for i := range 3 {
		_, err := c.Call(ctx, 1, nil, nil)
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("call %d: %v, want ErrUnavailable wrapping ECONNREFUSED", i, err)
		}
		if err := c.Send(ctx, 1, nil); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if st := c.Stats(); st.Dials != 1 || st.DialErrors != 1 {
		t.Fatalf("stats %+v: calls during the backoff must not dial", st)
	}
}

// TestCallCanceledWhileDialing: a caller whose context ends while the dial
// it started is in progress gives up; the dial goes on in the background.
func TestCallCanceledWhileDialing(t *testing.T) {
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, echo) })
	c := newTestClient(t, ts.addr, ClientConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Call(ctx, 1, nil, nil); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	testwait.For(t, 5*time.Second, "the dial started by the call", c.Connected)
}

func TestBadFrameClosesOnlyThatConn(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
	}{
		{"oversized", rawHead(1<<20, byte(KindCall), 1, 1)},
		{"length under header", rawHead(6, byte(KindCall), 1, 1)},
		{"length zero", rawHead(0, byte(KindCall), 1, 1)},
		{"unknown kind", rawHead(7, 0, 1, 1)},
		{"kind 200", rawHead(7, 200, 1, 1)},
		{"reply sent to server", rawHead(7, byte(KindReply), 1, 1)},
		{"error sent to server", rawHead(7, byte(KindError), 1, 1)},
		{"one-way error sent to server", rawHead(7, byte(KindOnewayError), 1, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &logBuffer{}
			ts := startServer(t, "", ServerConfig{MaxFrameSize: 1 << 10}, newTextLogger(logs), func(s *Server) { s.Handle(1, echo) })
			good := newTestClient(t, ts.addr, ClientConfig{})
			ctx := testCtx(t)
			if _, err := good.Call(ctx, 1, nil, nil); err != nil {
				t.Fatal(err)
			}
			bad, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer bad.Close()
			if _, err := bad.Write(tt.frame); err != nil {
				t.Fatal(err)
			}
			bad.SetReadDeadline(time.Now().Add(10 * time.Second))
			if n, err := bad.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("bad connection read %d, %v; want io.EOF", n, err)
			}
			if reply, err := good.Call(ctx, 1, []byte("fine"), nil); err != nil || string(reply) != "fine" {
				t.Fatalf("other connection: %q %v", reply, err)
			}
			testwait.For(t, 5*time.Second, "the bad frame to be counted", func() bool { return ts.Stats().BadFrames == 1 })
			// The count and the log line are not written at once: wait.
			testwait.For(t, 5*time.Second, "a bad frame log line", func() bool { return strings.Contains(logs.String(), "bad frame") })
			if st := good.Stats(); st.ConnsLost != 0 {
				t.Fatalf("good client lost its connection: %+v", st)
			}
		})
	}
}

// TestOversizedCallClosesOnlyThatConn: a client whose limit is above the
// server's loses its own connection (ErrConnLost), nobody else's.
func TestOversizedCallClosesOnlyThatConn(t *testing.T) {
	ts := startServer(t, "", ServerConfig{MaxFrameSize: 1 << 10}, nil, func(s *Server) { s.Handle(1, echo) })
	good := newTestClient(t, ts.addr, ClientConfig{})
	big := newTestClient(t, ts.addr, ClientConfig{})
	ctx := testCtx(t)
	if _, err := good.Call(ctx, 1, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := big.Call(ctx, 1, make([]byte, 1<<11), nil); !errors.Is(err, ErrConnLost) {
		t.Fatalf("oversized call: %v, want ErrConnLost", err)
	}
	if _, err := good.Call(ctx, 1, nil, nil); err != nil {
		t.Fatalf("other client: %v", err)
	}
}

// TestBadFrameFromServer: a client that reads a frame it cannot take
// drops the connection and fails its pending calls with ErrConnLost.
func TestBadFrameFromServer(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
	}{
		{"call sent to client", appendFrame(nil, header{KindCall, 1, 1}, nil)},
		{"oneway sent to client", appendFrame(nil, header{KindOneway, 1, 0}, nil)},
		{"oversized", rawHead(1<<20, byte(KindReply), 1, 1)},
		{"length under header", rawHead(3, byte(KindReply), 1, 1)},
		{"error without code", appendFrame(nil, header{KindError, 1, 1}, []byte{1})},
		{"one-way error without code", appendFrame(nil, header{KindOnewayError, 1, 0}, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			served := make(chan struct{})
			go func() {
				defer close(served)
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				defer nc.Close()
				nc.Read(make([]byte, 64)) // the call
				nc.Write(tt.frame)
				nc.Read(make([]byte, 1)) // until the client hangs up
			}()
			c := newTestClient(t, ln.Addr().String(), ClientConfig{MaxFrameSize: 1 << 10})
			if _, err := c.Call(testCtx(t), 1, nil, nil); !errors.Is(err, ErrConnLost) {
				t.Fatalf("err = %v, want ErrConnLost", err)
			}
			c.Close()
			<-served
		})
	}
}

func TestClientCloseWithPending(t *testing.T) {
	b := newBlocker()
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, b.handle) })
	c := NewClient(ts.addr, ClientConfig{}, discardLogger())
	ctx := testCtx(t)
	var pending []<-chan error
	for range 5 {
		pending = append(pending, callAsync(c, ctx, 1))
	}
	for range 5 {
		<-b.entered
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for i, ch := range pending {
		if err := waitErr(t, ch, "a pending call"); !errors.Is(err, ErrClosed) {
			t.Fatalf("pending call %d: %v, want ErrClosed", i, err)
		}
	}
	if _, err := c.Call(ctx, 1, nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
	if err := c.Send(ctx, 1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	close(b.release)
}

// TestClientCloseWhileDialing: Close during the backoff or a dial returns
// and leaves nothing running.
func TestClientCloseWhileDialing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := NewClient(addr, ClientConfig{MinBackoff: time.Hour}, discardLogger())
	c.Call(testCtx(t), 1, nil, nil)
	done := make(chan struct{})
	go func() {
		c.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked during the backoff")
	}
}

func TestShutdownWaitsForInflight(t *testing.T) {
	b := newBlocker()
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, b.handle) })
	c := newTestClient(t, ts.addr, ClientConfig{MinBackoff: time.Hour})
	ctx := testCtx(t)
	pending := callAsync(c, ctx, 1)
	<-b.entered
	shut := make(chan error, 1)
	go func() { shut <- ts.Shutdown(ctx) }()
	if err := waitErr(t, ts.served, "Serve to return"); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve = %v, want ErrServerClosed", err)
	}
	ts.served = nil
	if _, err := net.Dial("tcp", ts.addr); err == nil {
		t.Fatal("dial succeeded after Shutdown")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a call in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(b.release)
	if err := waitErr(t, pending, "the in-flight call"); err != nil {
		t.Fatalf("in-flight call: %v", err)
	}
	if err := waitErr(t, shut, "Shutdown"); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if st := ts.Stats(); st.Conns != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestShutdownDeadline(t *testing.T) {
	b := newBlocker()
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, b.handle) })
	c := newTestClient(t, ts.addr, ClientConfig{})
	pending := callAsync(c, testCtx(t), 1)
	<-b.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := ts.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if err := waitErr(t, pending, "the call"); !errors.Is(err, ErrConnLost) {
		t.Fatalf("call: %v, want ErrConnLost", err)
	}
}

func TestShutdownIdle(t *testing.T) {
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, echo) })
	c := newTestClient(t, ts.addr, ClientConfig{})
	if _, err := c.Call(testCtx(t), 1, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := ts.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "the client to see the close", func() bool { return !c.Connected() })
}

func TestServeAfterClose(t *testing.T) {
	s := NewServer(ServerConfig{}, discardLogger())
	s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve = %v", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("listener not closed: %v", err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// flakyListener fails its first Accepts with a temporary error.
type flakyListener struct {
	net.Listener
	fails atomic.Int32
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, errors.New("accept: too many open files")
	}
	return l.Listener.Accept()
}

func TestAcceptErrorBackoff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: ln}
	fl.fails.Store(3)
	s := NewServer(ServerConfig{}, discardLogger())
	s.Handle(1, echo)
	served := make(chan error, 1)
	go func() { served <- s.Serve(fl) }()
	c := newTestClient(t, ln.Addr().String(), ClientConfig{})
	if reply, err := c.Call(testCtx(t), 1, []byte("x"), nil); err != nil || string(reply) != "x" {
		t.Fatalf("%q %v", reply, err)
	}
	s.Close()
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve = %v", err)
	}
}

// TestStuckPeer: a peer that never reads makes Send block (bounded by its
// context) and, after WriteTimeout, lose the connection.
func TestStuckPeer(t *testing.T) {
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
	}()
	c := newTestClient(t, ln.Addr().String(), ClientConfig{WriteTimeout: 300 * time.Millisecond, MinBackoff: time.Hour})
	payload := bytes.Repeat([]byte("x"), 1<<20)
	var sendErr error
	for i := 0; i < 1000 && sendErr == nil; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		sendErr = c.Send(ctx, 1, payload)
		cancel()
	}
	if !errors.Is(sendErr, ErrConnLost) && !errors.Is(sendErr, context.DeadlineExceeded) {
		t.Fatalf("send to a stuck peer: %v", sendErr)
	}
	testwait.For(t, 10*time.Second, "the stuck connection to be dropped", func() bool { return c.Stats().ConnsLost == 1 })
	(<-accepted).Close()
}

// TestReconnectBacksOffAfterQuickLoss: a peer that accepts connections and
// drops them at once (a proxy without a backend, a server at its limit) is
// redialled after the backoff, as after a failed dial, not in a busy loop.
func TestReconnectBacksOffAfterQuickLoss(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepting := make(chan struct{})
	go func() {
		defer close(accepting)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			nc.Close()
		}
	}()
	defer func() {
		ln.Close()
		<-accepting
	}()
	c := newTestClient(t, ln.Addr().String(), ClientConfig{MinBackoff: time.Hour, MaxBackoff: time.Hour})
	if err := c.Send(testCtx(t), 1, []byte("x")); err != nil && !errors.Is(err, ErrConnLost) {
		t.Fatalf("send: %v", err)
	}
	testwait.For(t, 10*time.Second, "the connection to be dropped", func() bool { return c.Stats().ConnsLost >= 1 })
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if st := c.Stats(); st.Dials > 1 {
			t.Fatalf("stats %+v: redialled a peer that dropped the connection at once, without backoff", st)
		}
	}
	if err := c.Send(testCtx(t), 1, []byte("x")); !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrConnLost) {
		t.Fatalf("send during the backoff: %v, want ErrUnavailable wrapping ErrConnLost", err)
	}
}

// TestCloseSendsNoReply: Close closes the connections before it cancels the
// handlers' contexts, so a call still running gets no reply (its caller
// sees ErrConnLost), not the error its handler returns once cancelled.
func TestCloseSendsNoReply(t *testing.T) {
	for i := range 30 {
		b := newBlocker()
		ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, b.handle) })
		c := newTestClient(t, ts.addr, ClientConfig{MinBackoff: time.Hour})
		pending := callAsync(c, testCtx(t), 1)
		<-b.entered
		ts.stop()
		if err := waitErr(t, pending, "the pending call"); !errors.Is(err, ErrConnLost) {
			t.Fatalf("round %d: pending call: %v, want ErrConnLost", i, err)
		}
		c.Close()
	}
}
