package rpc

import (
	"bytes"
	"context"
	"github.com/goimx/goim/internal/testwait"
	"net"
	"runtime"
	"testing"
	"time"
)

// heapInuse returns the heap in use after a collection.
func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestBigFrameClaimsHoldLittle: 40 connections each claim an 8 MiB frame
// and send 100 KiB of it. The server must hold about what arrived, not
// what was claimed (40 x 8 MiB = 320 MiB).
func TestBigFrameClaimsHoldLittle(t *testing.T) {
	const (
		conns = 40
		claim = 8 << 20
		sent  = 100 << 10
	)
	s := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.HandleOneway(1, func(context.Context, []byte) error { return nil }) })
	before := heapInuse()
	msg := rawHead(headerLen+claim, byte(KindOneway), 1, 0)
	msg = append(msg, bytes.Repeat([]byte{'x'}, sent)...)
	for range conns {
		nc := dialRaw(t, s.addr)
		if _, err := nc.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 10*time.Second, "the server read every byte sent", func() bool {
		return s.Stats().BytesIn == uint64(conns*len(msg))
	})
	// Each connection holds its 64 KiB read buffer and at most twice what
	// arrived beyond it; allow as much again for everything else.
	limit := uint64(2 * conns * (readBufferSize + 2*sent))
	var grown uint64
	for range 5 { // a reader may be a moment from allocating after its last read
		if now := heapInuse(); now > before {
			grown = max(grown, now-before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("heap grew %d KiB for %d claims of %d MiB (limit %d KiB)", grown>>10, conns, claim>>20, limit>>10)
	if grown > limit {
		t.Fatalf("heap grew %d KiB, over %d KiB: the server allocates what peers claim", grown>>10, limit>>10)
	}
	if st := s.Stats(); st.FramesIn != 0 || st.Conns != conns {
		t.Errorf("stats %+v: want no frame read and %d connections", st, conns)
	}
}

// TestBigFrameArrivesInPieces: a frame bigger than the read buffer that
// comes in small writes is read whole.
func TestBigFrameArrivesInPieces(t *testing.T) {
	got := make(chan []byte, 1)
	s := startServer(t, "", ServerConfig{}, nil, func(s *Server) {
		s.HandleOneway(1, func(_ context.Context, p []byte) error { got <- bytes.Clone(p); return nil })
	})
	payload := make([]byte, 5*readBufferSize+123)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	frame := appendFrame(nil, header{kind: KindOneway, method: 1}, payload)
	nc := dialRaw(t, s.addr)
	for b := frame; len(b) > 0; {
		n := min(len(b), 10000)
		if _, err := nc.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	select {
	case p := <-got:
		if !bytes.Equal(p, payload) {
			t.Fatal("payload differs")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("frame not handled")
	}
}

// TestIdleTimeoutClosesSilentConn: a connection that sends nothing is
// closed after IdleTimeout and counted.
func TestIdleTimeoutClosesSilentConn(t *testing.T) {
	s := startServer(t, "", ServerConfig{IdleTimeout: 100 * time.Millisecond}, nil, nil)
	nc := dialRaw(t, s.addr)
	expectClosed(t, nc)
	testwait.For(t, 10*time.Second, "idle close counted", func() bool { st := s.Stats(); return st.IdleClosed == 1 && st.Conns == 0 })
	if st := s.Stats(); st.AuthFailures != 0 || st.BadFrames != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestPingKeepsQuietLinkOpen: a client that makes no call for many idle
// timeouts keeps its connection: its keepalives reset the server's idle
// deadline.
func TestPingKeepsQuietLinkOpen(t *testing.T) {
	const idle, ping = time.Second, 20 * time.Millisecond
	s := startServer(t, "", ServerConfig{IdleTimeout: idle}, nil, func(s *Server) { s.Handle(1, echo) })
	c := newTestClient(t, s.addr, ClientConfig{PingInterval: ping})
	if _, err := c.Call(testCtx(t), 1, nil, nil); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "keepalives over three idle timeouts", func() bool {
		return s.Stats().FramesIn >= 1+uint64(3*idle/ping/2) // allowing for half of the pings late
	})
	if st := s.Stats(); st.IdleClosed != 0 || st.Accepted != 1 || st.OnewayDropped != 0 {
		t.Errorf("server stats %+v: want one connection, never closed, pings not counted as dropped", st)
	}
	if st := c.Stats(); st.ConnsLost != 0 || !st.Connected {
		t.Errorf("client stats %+v", st)
	}
}

// TestMaxConnsRefuses: the connection over MaxConns is closed at accept
// and counted; once one closes, a new one is served.
func TestMaxConnsRefuses(t *testing.T) {
	s := startServer(t, "", ServerConfig{MaxConns: 2}, nil, func(s *Server) { s.Handle(1, echo) })
	c1 := newTestClient(t, s.addr, ClientConfig{})
	c2 := newTestClient(t, s.addr, ClientConfig{})
	for _, c := range []*Client{c1, c2} {
		if _, err := c.Call(testCtx(t), 1, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	third := dialRaw(t, s.addr)
	third.Write(appendFrame(nil, header{kind: KindCall, method: 1, seq: 1}, nil))
	if got := expectClosed(t, third); len(got) != 0 {
		t.Errorf("refused connection got % x", got)
	}
	if st := s.Stats(); st.ConnsRefused != 1 || st.Conns != 2 {
		t.Fatalf("stats %+v: want 1 refused, 2 open", st)
	}
	c1.Close()
	testwait.For(t, 10*time.Second, "a slot freed", func() bool { return s.Stats().Conns == 1 })
	c3 := newTestClient(t, s.addr, ClientConfig{})
	if _, err := c3.Call(testCtx(t), 1, nil, nil); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.ConnsRefused != 1 {
		t.Errorf("ConnsRefused = %d, want 1", st.ConnsRefused)
	}
}

// TestShutdownDuringHandshake: Shutdown does not wait for a peer that
// never finishes its handshake.
func TestShutdownDuringHandshake(t *testing.T) {
	s := startServer(t, "", ServerConfig{Secret: secretA, HandshakeTimeout: time.Minute}, nil, nil)
	nc := dialRaw(t, s.addr)
	nc.Write([]byte(authMagic)) // a hello begun, never finished
	testwait.For(t, 10*time.Second, "connection accepted", func() bool { return s.Stats().Conns == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	expectClosed(t, nc)
}

// TestHandshakesPerIP: connections of one IP stalled in their handshake
// hold at most MaxHandshakesPerIP slots; one more from that IP is closed
// at accept and counted, while a peer of another IP still links.
func TestHandshakesPerIP(t *testing.T) {
	s := startServer(t, "", ServerConfig{Secret: secretA, HandshakeTimeout: time.Minute, MaxHandshakesPerIP: 2}, nil, func(s *Server) { s.Handle(1, echo) })
	stall := func() net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
		nc, err := d.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		nc.Write([]byte(authMagic)) // a hello begun, never finished
		return nc
	}
	stalled := []net.Conn{stall(), stall()}
	testwait.For(t, 10*time.Second, "two handshakes under way", func() bool { return s.Stats().Conns == 2 })
	expectClosed(t, stall())
	if st := s.Stats(); st.ConnsRefused != 1 {
		t.Fatalf("stats %+v: want 1 refused", st)
	}
	c := newTestClient(t, s.addr, ClientConfig{Secret: secretA}) // from 127.0.0.1
	if _, err := c.Call(testCtx(t), 1, nil, nil); err != nil {
		t.Fatalf("a peer of another IP: %v", err)
	}
	stalled[0].Close()
	testwait.For(t, 10*time.Second, "a slot given back", func() bool { return s.Stats().Conns == 2 })
	nc := stall()
	testwait.For(t, 10*time.Second, "the new handshake under way", func() bool { return s.Stats().Conns == 3 })
	if st := s.Stats(); st.ConnsRefused != 1 {
		t.Errorf("stats %+v: want still 1 refused", st)
	}
	nc.Close()
}

func TestHandshakeSlots(t *testing.T) {
	h := newHandshakeSlots(2)
	a := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1}
	mapped := &net.TCPAddr{IP: net.ParseIP("::ffff:10.0.0.1"), Port: 2}
	b := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 3}
	r1, ok1 := h.take(a)
	r2, ok2 := h.take(mapped) // the same IP, IPv4-mapped
	_, ok3 := h.take(a)
	_, okB := h.take(b)
	if !ok1 || !ok2 || ok3 || !okB {
		t.Fatalf("take: %v %v %v %v, want true true false true", ok1, ok2, ok3, okB)
	}
	r1()
	r1() // a second release gives nothing back
	if _, ok := h.take(a); !ok {
		t.Fatal("no slot after a release")
	}
	if _, ok := h.take(a); ok {
		t.Fatal("a double release freed two slots")
	}
	r2()
	if _, ok := h.take(&net.UnixAddr{Name: "x", Net: "unix"}); !ok {
		t.Error("a non-TCP address was limited")
	}
	if _, ok := newHandshakeSlots(-1).take(a); !ok {
		t.Error("no limit refused")
	}
}
