//go:build !race

package rpc

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
)

func TestPayloadZeroAllocs(t *testing.T) {
	m := newBenchMessage()
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = m.append(buf[:0]) }); n != 0 {
		t.Errorf("encoding: %v allocs, want 0", n)
	}
	var p []byte
	p = AppendUvarint(p, 1<<40)
	p = AppendVarint(p, -5)
	p = AppendBool(p, true)
	p = AppendBytes(p, make([]byte, 256))
	n := testing.AllocsPerRun(100, func() {
		d := NewDecoder(p)
		_, _, _, _ = d.Uvarint(), d.Int32(), d.Bool(), d.Bytes()
		if d.Finish() != nil {
			t.Fatal(d.Err())
		}
	})
	if n != 0 {
		t.Errorf("decoding scalars and bytes: %v allocs, want 0", n)
	}
	p = AppendStrings(p[:0], []string{"k1", "key-2", "k3"})
	n = testing.AllocsPerRun(100, func() {
		d := NewDecoder(p)
		l := d.StringList()
		if d.Finish() != nil {
			t.Fatal(d.Err())
		}
		size := 0
		for s := range l.All() {
			size += len(s)
		}
		if size != 9 || l.Len() != 3 {
			t.Fatalf("%d bytes in %d strings", size, l.Len())
		}
		buf = AppendStringList(buf[:0], l)
	})
	if n != 0 {
		t.Errorf("decoding, reading and re-encoding a string list: %v allocs, want 0", n)
	}
}

// TestCallZeroAllocs pins a steady-state round trip (client and server
// together) at zero allocations, with a context that never ends and with
// one that has a deadline (as logic's shared push deadline).
func TestCallZeroAllocs(t *testing.T) {
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, echo) })
	c := newTestClient(t, ts.addr, ClientConfig{})
	deadline, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tt := range []struct {
		name string
		ctx  context.Context
	}{
		{"background", context.Background()},
		{"deadline", deadline},
	} {
		req := make([]byte, 64)
		reply := make([]byte, 0, 64)
		call := func() {
			var err error
			if reply, err = c.Call(tt.ctx, 1, req, reply[:0]); err != nil {
				t.Fatal(err)
			}
		}
		for range 100 {
			call()
		}
		if n := testing.AllocsPerRun(500, call); n != 0 {
			t.Errorf("Call, %s context: %v allocs, want 0", tt.name, n)
		}
	}
}

// TestSendZeroAllocs pins Send (and the server's one-way path) at zero
// allocations.
func TestSendZeroAllocs(t *testing.T) {
	var got atomic.Int64
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) {
		s.HandleOneway(2, func(context.Context, []byte) error { got.Add(1); return nil })
	})
	c := newTestClient(t, ts.addr, ClientConfig{})
	ctx := context.Background()
	payload := make([]byte, 64)
	send := func() {
		if err := c.Send(ctx, 2, payload); err != nil {
			t.Fatal(err)
		}
	}
	for range 1000 {
		send()
	}
	if n := testing.AllocsPerRun(5000, send); n != 0 {
		t.Errorf("Send: %v allocs, want 0", n)
	}
	testwait.For(t, 10*time.Second, "every one-way", func() bool { return got.Load() == 1000+5001 })
}
