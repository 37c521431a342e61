package comet

import (
	"encoding/binary"
	"github.com/goimx/goim/internal/testwait"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// expectPolicyClose checks, on WebSocket, that the next frame is a close
// with status 1008 and text, then that the connection closes.
func expectPolicyClose(t *testing.T, c *client, text string) {
	t.Helper()
	if c.ws {
		op, _, payload, err := c.readFrame()
		if err != nil || op != websocket.OpClose || len(payload) < 2 ||
			binary.BigEndian.Uint16(payload) != websocket.ClosePolicyViolation || string(payload[2:]) != text {
			t.Fatalf("close frame = %v %q %v, want close 1008 %q", op, payload, err, text)
		}
	}
	c.expectClosed()
}

// withoutLimits turns cfg's per-IP and per-connection rate limits off, for
// benchmarks that open thousands of connections from 127.0.0.1 at once or
// send as fast as they can.
func withoutLimits(cfg Config) Config {
	cfg.MaxConnsPerIP, cfg.AuthRatePerIP, cfg.MsgRate = -1, -1, -1
	return cfg
}

// TestConnsPerIP: the connection over MaxConnsPerIP from one IP is closed
// before anything is read, counted; once one closes, another is let in.
func TestConnsPerIP(t *testing.T) {
	s := startServer(t, Config{MaxConnsPerIP: 3}, nil)
	var open []*client
	for i := range 3 {
		c := dialTCP(t, s.tcp)
		if i == 0 {
			c.auth(token{Key: "authed"}) // authenticated or not, each counts
		}
		open = append(open, c)
	}
	testwait.For(t, waitTimeout, "3 connections counted", func() bool { return s.cm.Stats().Accepted == 3 })
	dialTCP(t, s.tcp).expectClosed()
	testwait.For(t, waitTimeout, "refusal counted", func() bool { return s.cm.Stats().Closes[CloseIPLimit] == 1 })
	open[1].nc.Close()
	testwait.For(t, waitTimeout, "close of the second", func() bool { return s.cm.Stats().Closes[CloseNoAuth] == 1 })
	c := dialTCP(t, s.tcp)
	c.auth(token{Key: "later"})
	open[0].heartbeat()
	if n := s.cm.Stats().Closes[CloseIPLimit]; n != 1 {
		t.Errorf("Closes[CloseIPLimit] = %d, want 1", n)
	}
}

// TestConnsPerIPDefault: without a setting the limit is 1024.
func TestConnsPerIPDefault(t *testing.T) {
	cm, err := New(Config{ReportInterval: -1}, &fakeLogic{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close()
	if got := cm.Config(); got.MaxConnsPerIP != 1024 || got.AuthRatePerIP != 128 || got.MsgRate != 64 {
		t.Errorf("defaults: MaxConnsPerIP %d, AuthRatePerIP %d, MsgRate %d; want 1024, 128, 64", got.MaxConnsPerIP, got.AuthRatePerIP, got.MsgRate)
	}
}

// TestAuthRatePerIP: auths over AuthRatePerIP within a second close the
// connection before logic is asked, with a close frame on WebSocket.
func TestAuthRatePerIP(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{AuthRatePerIP: 2}, nil)
		// Three auths in one second: start just after a second begins.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
		dial(t, s).auth(token{Key: "a"})
		dial(t, s).auth(token{Key: "b"})
		c := dial(t, s)
		c.send(protocol.OpAuth, tokenJSON(token{Key: "c"}))
		expectPolicyClose(t, c, "auth rate limit")
		testwait.For(t, waitTimeout, "refusal counted", func() bool { return s.cm.Stats().Closes[CloseAuthRate] == 1 })
		s.logic.mu.Lock()
		n := len(s.logic.connects)
		s.logic.mu.Unlock()
		if n != 2 {
			t.Errorf("logic got %d connects, want 2: the refused auth must not reach it", n)
		}
	})
}

// TestRateLimiter: counts are per IP and per second.
func TestRateLimiter(t *testing.T) {
	var rl rateLimiter
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	t0 := time.Unix(1000, 0)
	for i, tt := range []struct {
		ip   netip.Addr
		at   time.Time
		want bool
	}{
		{a, t0, true},
		{a, t0.Add(100 * time.Millisecond), true},
		{a, t0.Add(900 * time.Millisecond), false}, // third in second 1000
		{b, t0.Add(900 * time.Millisecond), true},  // another IP
		{a, t0.Add(time.Second), true},             // a new second
		{a, t0.Add(time.Second), true},
		{a, t0.Add(time.Second), false},
		{netip.Addr{}, t0, true}, // no IP: not limited
		{netip.Addr{}, t0, true},
		{netip.Addr{}, t0, true},
	} {
		if got := rl.allow(tt.ip, 2, tt.at); got != tt.want {
			t.Errorf("%d: allow(%v, %v) = %v, want %v", i, tt.ip, tt.at, got, tt.want)
		}
	}
}

// TestMsgRate: a connection sending more than MsgRate packets in a second
// is closed and counted; the packets within the limit are answered.
func TestMsgRate(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{MsgRate: 5}, nil)
		c := dial(t, s)
		c.auth(token{Key: "chatty", RoomID: "live://1"})
		// 20 packets in one write: whatever second boundary they straddle,
		// at most 10 fit in two windows of 5.
		var burst []byte
		ops := []int32{protocol.OpHeartbeat, protocol.OpSendMsg, protocol.OpChangeRoom, protocol.OpSub, protocol.OpUnsub}
		for i := range 20 {
			c.seq++
			p := protocol.Packet{Ver: 1, Op: ops[i%len(ops)], Seq: c.seq, Body: []byte("1")}
			if c.ws {
				burst = websocket.AppendMaskedFrame(burst, websocket.OpBinary, [4]byte{1, 2, 3, 4}, p.Append(nil))
			} else {
				burst = p.Append(burst)
			}
		}
		c.writeRaw(burst)
		replies := 0
		for {
			msg, err := c.readMessage()
			if err != nil {
				break
			}
			var p protocol.Packet
			if c.ws && p.Decode(msg, 1<<20) != nil {
				// a close frame's payload: the limit's text
				break
			}
			replies++
		}
		// The heartbeat's reply goes through the writer and may be dropped
		// by the close; the packets over the limit are never answered.
		if replies < 4 || replies > 10 {
			t.Errorf("%d replies before the close, want 4 to 10", replies)
		}
		testwait.For(t, waitTimeout, "close counted", func() bool { return s.cm.Stats().Closes[CloseMsgRate] == 1 })
	})
}

// TestMsgRateBeforeAuth: packets before auth count against MsgRate too.
func TestMsgRateBeforeAuth(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{MsgRate: 5}, nil)
		c := dial(t, s)
		var burst []byte
		for range 20 {
			p := protocol.Packet{Ver: 1, Op: protocol.OpHeartbeat}
			if c.ws {
				burst = websocket.AppendMaskedFrame(burst, websocket.OpBinary, [4]byte{1, 2, 3, 4}, p.Append(nil))
			} else {
				burst = p.Append(burst)
			}
		}
		c.writeRaw(burst)
		expectPolicyClose(t, c, "message rate limit")
		testwait.For(t, waitTimeout, "close counted", func() bool { return s.cm.Stats().Closes[CloseMsgRate] == 1 })
	})
}

// TestMsgRateWithin: MsgRate packets in a burst are all answered.
func TestMsgRateWithin(t *testing.T) {
	s := startServer(t, Config{MsgRate: 5}, nil)
	c := dialTCP(t, s.tcp)
	c.auth(token{Key: "k"})
	var burst []byte
	for range 5 {
		c.seq++
		burst = (&protocol.Packet{Ver: 1, Op: protocol.OpSub, Seq: c.seq, Body: []byte("1")}).Append(burst)
	}
	c.writeRaw(burst)
	for range 5 {
		if p := c.read(); p.Op != protocol.OpSubReply {
			t.Fatalf("reply %+v, want op 15", p)
		}
	}
	if n := s.cm.Stats().Closes[CloseMsgRate]; n != 0 {
		t.Errorf("Closes[CloseMsgRate] = %d, want 0", n)
	}
}

// TestMsgRateOff: a negative MsgRate lets a burst through.
func TestMsgRateOff(t *testing.T) {
	s := startServer(t, Config{MsgRate: -1}, nil)
	c := dialTCP(t, s.tcp)
	c.auth(token{Key: "k"})
	for range 200 {
		c.heartbeat()
	}
}

// TestChangeRoomTooLong: op 12 with a room id over 256 bytes closes the
// connection (CloseRoomTooLong) and leaves the room unchanged; 256 bytes
// is accepted.
func TestChangeRoomTooLong(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{}, nil)
		c := dial(t, s)
		c.auth(token{Key: "roomy", RoomID: "live://1"})
		ok := strings.Repeat("r", maxRoomLen)
		seq := c.send(protocol.OpChangeRoom, []byte(ok))
		if p := c.read(); p.Op != protocol.OpChangeRoomReply || p.Seq != seq {
			t.Fatalf("change room reply %+v", p)
		}
		testwait.For(t, waitTimeout, "room of 256 bytes", func() bool { return s.cm.online(ok) == 1 })
		c.send(protocol.OpChangeRoom, []byte(ok+"x"))
		expectPolicyClose(t, c, "room id too long")
		testwait.For(t, waitTimeout, "close counted", func() bool { return s.cm.Stats().Closes[CloseRoomTooLong] == 1 })
		if n := s.cm.online(ok + "x"); n != 0 {
			t.Errorf("%d connections in the over-long room", n)
		}
	})
}

// BenchmarkAllowMsg measures the per-packet cost of the message rate
// limit (a clock read and two fields of the connection).
func BenchmarkAllowMsg(b *testing.B) {
	cm, err := New(Config{ReportInterval: -1, MsgRate: maxMsgRate}, &fakeLogic{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cm.Close()
	c, _ := addSinkConn(cm, "k", "")
	b.ReportAllocs()
	for b.Loop() {
		c.allowMsg() // false once 65535 packets were counted in a second: same cost
	}
}

// BenchmarkRateLimiter measures one auth counted against its IP.
func BenchmarkRateLimiter(b *testing.B) {
	var rl rateLimiter
	ip := netip.MustParseAddr("192.0.2.1")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		rl.allow(ip, math.MaxInt32, now)
	}
}
