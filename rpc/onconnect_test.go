package rpc

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
)

// TestOnConnect: OnConnect runs once per connection made, the first one
// and each reconnection after the server came back, and not for failed
// dials.
func TestOnConnect(t *testing.T) {
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, echo) })
	var connects atomic.Int32
	c := newTestClient(t, ts.addr, ClientConfig{
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		OnConnect: func() { connects.Add(1) },
	})
	if err := c.Connect(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "the first OnConnect", func() bool { return connects.Load() == 1 })
	ts.stop()
	testwait.For(t, 5*time.Second, "failed redials", func() bool { return c.Stats().DialErrors >= 2 })
	if n := connects.Load(); n != 1 {
		t.Fatalf("OnConnect ran %d times while the server was down, want 1 in all", n)
	}
	startServer(t, ts.addr, ServerConfig{}, nil, nil)
	testwait.For(t, 10*time.Second, "OnConnect after the restart", func() bool { return connects.Load() == 2 })
}

// TestConnect: Connect waits for the dial and reports a live connection;
// with nothing listening it fails with ErrUnavailable, and with
// ErrClosed after Close.
func TestConnect(t *testing.T) {
	ts := startServer(t, "", ServerConfig{}, nil, nil)
	c := newTestClient(t, ts.addr, ClientConfig{})
	if c.Connected() {
		t.Fatal("connected before Connect")
	}
	if err := c.Connect(testCtx(t)); err != nil || !c.Connected() {
		t.Fatalf("Connect: %v, connected %v", err, c.Connected())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	down := newTestClient(t, addr, ClientConfig{MinBackoff: time.Hour, MaxBackoff: time.Hour})
	if err := down.Connect(testCtx(t)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Connect to nothing: %v, want ErrUnavailable", err)
	}
	c.Close()
	if err := c.Connect(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Connect after Close: %v, want ErrClosed", err)
	}
}
