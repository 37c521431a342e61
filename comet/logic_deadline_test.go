package comet

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

// TestLogicDeadlines runs in a synctest bubble: its clock moves only when
// every goroutine in it waits, so "within the tick" is exact.
func TestLogicDeadlines(t *testing.T) {
	synctest.Test(t, testLogicDeadlines)
}

func testLogicDeadlines(t *testing.T) {
	tests := []struct {
		timeout, tick time.Duration
	}{
		{5 * time.Second, 100 * time.Millisecond},
		{time.Second, 20 * time.Millisecond},
		{10 * time.Millisecond, time.Millisecond},
		{time.Hour, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		parent, cancel := context.WithCancel(context.Background())
		d := newLogicDeadlines(parent, tt.timeout)
		if d.tick != tt.tick {
			t.Errorf("timeout %v: tick %v, want %v", tt.timeout, d.tick, tt.tick)
		}
		start := time.Now()
		ctx := d.get()
		if dl, ok := ctx.Deadline(); !ok || dl.Sub(start) < tt.timeout || dl.Sub(start) > tt.timeout+tt.tick {
			t.Errorf("timeout %v: deadline %v after the call started, want %v to %v", tt.timeout, dl.Sub(start), tt.timeout, tt.timeout+tt.tick)
		}
		time.Sleep(tt.tick - 1)
		later := d.get()
		if later != ctx {
			t.Errorf("timeout %v: a call within the tick got another context", tt.timeout)
		}
		time.Sleep(1)
		next := d.get()
		if next == ctx {
			t.Errorf("timeout %v: a call in the next tick got the first tick's context", tt.timeout)
		}
		if dl, _ := next.Deadline(); dl.Sub(start) < tt.tick+tt.timeout {
			t.Errorf("timeout %v: next tick's deadline %v after the first call, want at least %v", tt.timeout, dl.Sub(start), tt.tick+tt.timeout)
		}
		time.Sleep(tt.timeout + tt.tick)
		if ctx.Err() == nil {
			t.Errorf("timeout %v: context live %v after its call started", tt.timeout, tt.timeout+tt.tick)
		}
		cancel()
		if err := d.get().Err(); err == nil {
			t.Errorf("timeout %v: a call after the comet's context ended got a live context", tt.timeout)
		}
	}
}

// TestRemoteAddr: the address sent to logic reads as net.TCPAddr.String.
func TestRemoteAddr(t *testing.T) {
	tests := []*net.TCPAddr{
		{IP: net.IPv4(127, 0, 0, 8).To4(), Port: 41234},
		{IP: net.IPv4(10, 1, 2, 3), Port: 80}, // 16-byte form of an IPv4 address
		{IP: net.IPv6loopback, Port: 443},
		{IP: net.ParseIP("fe80::1"), Port: 5, Zone: "eth0"},
		{IP: netip.MustParseAddr("2001:db8::ff").AsSlice(), Port: 65535},
	}
	for _, a := range tests {
		c := &conn{nc: &addrConn{remote: a}}
		if got, want := c.remoteAddr(), a.String(); got != want {
			t.Errorf("remoteAddr of %#v = %q, want %q", a, got, want)
		}
	}
}

// addrConn is a net.Conn that only has a remote address.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c *addrConn) RemoteAddr() net.Addr { return c.remote }
