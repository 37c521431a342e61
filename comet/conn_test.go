package comet

import (
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// transports runs f for TCP and for WebSocket.
func transports(t *testing.T, f func(t *testing.T, dial func(testing.TB, *server) *client)) {
	t.Run("tcp", func(t *testing.T) {
		f(t, func(tb testing.TB, s *server) *client { return dialTCP(tb, s.tcp) })
	})
	t.Run("ws", func(t *testing.T) {
		f(t, func(tb testing.TB, s *server) *client { return dialWS(tb, s.ws) })
	})
}

func TestAuthAccepted(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{}, &fakeLogic{})
		c := dial(t, s)
		c.auth(token{Mid: 7, Key: "k1", RoomID: "live://1", Platform: "web", Accepts: []int32{1000}})
		testwait.For(t, waitTimeout, "registration", func() bool { return s.cm.Stats().Conns == 1 })
		s.logic.mu.Lock()
		got := s.logic.connects[0]
		s.logic.mu.Unlock()
		if got.Server != "comet-test" || got.ConnID == 0 || got.Addr != c.nc.LocalAddr().String() {
			t.Errorf("Connect request = %+v", got)
		}
		st := s.cm.Stats()
		if st.Rooms != 1 || st.IPs != 1 || st.TCPConns+st.WSConns != 1 {
			t.Errorf("stats = %+v", st)
		}
	})
}

func TestAuthRefused(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{}, &fakeLogic{})
		c := dial(t, s)
		c.send(protocol.OpAuth, tokenJSON(token{Mid: -1}))
		if c.ws {
			op, _, payload, err := c.readFrame()
			if err != nil || op != 0x8 || binary.BigEndian.Uint16(payload) != 1008 {
				t.Fatalf("close frame = %v %x %v, want close 1008", op, payload, err)
			}
		}
		c.expectClosed()
		testwait.For(t, waitTimeout, "close count", func() bool { return s.cm.Stats().Closes[CloseAuthRefused] == 1 })
		if n := len(s.logic.disconnected()); n != 0 {
			t.Errorf("%d Disconnects for a refused connection", n)
		}
		testwait.For(t, waitTimeout, "close log line", func() bool {
			return hasLine(s.log.String(), "connection closed", "reason=\"auth refused\"")
		})
	})
}

func TestHandshakeDeadline(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{HandshakeTimeout: 100 * time.Millisecond}, &fakeLogic{})
		c := dial(t, s)
		c.send(protocol.OpHeartbeat, nil) // ignored before auth
		c.expectClosed()
		testwait.For(t, waitTimeout, "close count", func() bool { return s.cm.Stats().Closes[CloseHandshakeTimeout] == 1 })
	})
}

func TestHeartbeatReply(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{}, &fakeLogic{})
		a, b := dial(t, s), dial(t, s)
		a.auth(token{Key: "a", RoomID: "live://1"})
		b.auth(token{Key: "b", RoomID: "live://1"})
		testwait.For(t, waitTimeout, "registration", func() bool { return s.cm.Stats().Conns == 2 })
		seq := a.send(protocol.OpHeartbeat, nil)
		msg, err := a.readMessage()
		if err != nil {
			t.Fatal(err)
		}
		want := []byte{0, 0, 0, 20, 0, 16, 0, 1, 0, 0, 0, 3, 0, 0, 0, byte(seq), 0, 0, 0, 2}
		if string(msg) != string(want) {
			t.Errorf("heartbeat reply % x, want % x", msg, want)
		}
	})
}

func TestHeartbeatExpiry(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{}, &fakeLogic{heartbeat: 300 * time.Millisecond})
		quiet, alive := dial(t, s), dial(t, s)
		quiet.auth(token{Key: "quiet"})
		alive.auth(token{Key: "alive"})
		start := time.Now()
		for time.Since(start) < 600*time.Millisecond {
			alive.heartbeat()
			time.Sleep(50 * time.Millisecond)
		}
		quiet.expectClosed()
		testwait.For(t, waitTimeout, "close count", func() bool { return s.cm.Stats().Closes[CloseHeartbeatTimeout] == 1 })
		alive.heartbeat()
		if st := s.cm.Stats(); st.Conns != 1 {
			t.Errorf("conns = %d, want 1", st.Conns)
		}
		testwait.For(t, waitTimeout, "disconnect", func() bool { return len(s.logic.disconnected()) == 1 })
		if d := s.logic.disconnected()[0]; d.Key != "quiet" || d.Server != "comet-test" {
			t.Errorf("Disconnect = %+v", d)
		}
	})
}

func TestHeartbeatRenewsSession(t *testing.T) {
	s := startServer(t, Config{RenewInterval: time.Nanosecond}, nil)
	c := dialTCP(t, s.tcp)
	c.auth(token{Mid: 4, Key: "renew"})
	c.heartbeat()
	c.heartbeat()
	s.logic.mu.Lock()
	defer s.logic.mu.Unlock()
	if len(s.logic.heartbeats) != 2 {
		t.Fatalf("%d renewals, want 2", len(s.logic.heartbeats))
	}
	if h := s.logic.heartbeats[0]; h.Mid != 4 || h.Key != "renew" || h.Server != "comet-test" || h.ConnID != s.logic.connects[0].ConnID {
		t.Errorf("renewal %+v", h)
	}
}

func TestHeartbeatNoRenewal(t *testing.T) {
	s := startServer(t, Config{RenewInterval: -1}, nil)
	c := dialTCP(t, s.tcp)
	c.auth(token{Key: "k"})
	c.heartbeat()
	s.logic.mu.Lock()
	defer s.logic.mu.Unlock()
	if len(s.logic.heartbeats) != 0 {
		t.Errorf("%d renewals with renewal off", len(s.logic.heartbeats))
	}
}

func TestWSTruncatedFrame(t *testing.T) {
	s := startServer(t, Config{}, nil)
	c := dialWS(t, s.ws)
	c.auth(token{Key: "k"})
	frame := appendMasked(nil, true, websocket.OpBinary, [4]byte{1, 1, 1, 1}, make([]byte, 40))
	c.writeRaw(frame[:20])
	c.nc.(*net.TCPConn).CloseWrite()
	c.expectClosed()
	testwait.For(t, waitTimeout, "protocol close", func() bool { return s.cm.Stats().Closes[CloseProtocol] == 1 })
}

// TestWSPingAfterIdle: a WebSocket client's ping that comes more than
// WriteTimeout after the server's last write is answered with a pong and
// the connection stays open (the pong must not go out under the stale
// write deadline of that last write).
func TestWSPingAfterIdle(t *testing.T) {
	const writeTimeout = 50 * time.Millisecond
	s := startServer(t, Config{WriteTimeout: writeTimeout}, nil)
	c := dialWS(t, s.ws)
	c.auth(token{Key: "pinger"})
	idleSince := time.Now()
	testwait.For(t, waitTimeout, "the auth reply's write deadline to pass", func() bool {
		return time.Since(idleSince) > 3*writeTimeout
	})
	c.writeRaw(websocket.AppendMaskedFrame(nil, websocket.OpPing, [4]byte{9, 8, 7, 6}, []byte("hi")))
	op, _, payload, err := c.readFrame()
	if err != nil || op != websocket.OpPong || string(payload) != "hi" {
		t.Fatalf("after ping: frame %v %q %v, want pong \"hi\"", op, payload, err)
	}
	c.heartbeat()
	if n := s.cm.Stats().Closes[CloseReadError]; n != 0 {
		t.Fatalf("%d connections closed with a read error", n)
	}
}

// TestRepliesKeepVer: every reply, the heartbeat's included, carries the
// request's ver and seq, as goim's do.
func TestRepliesKeepVer(t *testing.T) {
	tests := []struct {
		op, replyOp int32
		body        string
	}{
		{protocol.OpHeartbeat, protocol.OpHeartbeatReply, ""},
		{protocol.OpChangeRoom, protocol.OpChangeRoomReply, "live://2"},
		{protocol.OpSub, protocol.OpSubReply, "5"},
		{1000, 1000, "app"},
	}
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{}, nil)
		c := dial(t, s)
		c.auth(token{Key: "ver", RoomID: "live://1"})
		for _, tt := range tests {
			c.seq++
			c.write((&protocol.Packet{Ver: 7, Op: tt.op, Seq: c.seq, Body: []byte(tt.body)}).Append(nil))
			if p := c.read(); p.Ver != 7 || p.Op != tt.replyOp || p.Seq != c.seq {
				t.Errorf("op %d: reply ver %d op %d seq %d, want ver 7 op %d seq %d", tt.op, p.Ver, p.Op, p.Seq, tt.replyOp, c.seq)
			}
		}
	})
}

// TestHeartbeatBurst checks that heartbeats sent back to back, faster
// than the writer goroutine takes their replies, are each answered, in
// order.
func TestHeartbeatBurst(t *testing.T) {
	const n = 50
	for _, ws := range []bool{false, true} {
		t.Run(fmt.Sprint("ws=", ws), func(t *testing.T) {
			s := startServer(t, Config{}, nil)
			c := dialTCP(t, s.tcp)
			if ws {
				c = dialWS(t, s.ws)
			}
			c.auth(token{Key: "burst"})
			var burst []byte
			for seq := int32(1); seq <= n; seq++ {
				p := (&protocol.Packet{Ver: 1, Op: protocol.OpHeartbeat, Seq: 100 + seq}).Append(nil)
				if ws {
					p = websocket.AppendMaskedFrame(nil, websocket.OpBinary, [4]byte{1, 2, 3, 4}, p)
				}
				burst = append(burst, p...)
			}
			c.writeRaw(burst)
			for seq := int32(1); seq <= n; seq++ {
				p := c.read()
				if p.Op != protocol.OpHeartbeatReply || p.Seq != 100+seq || len(p.Body) != 4 {
					t.Fatalf("reply %d = %+v, want op 3, seq %d", seq, p, 100+seq)
				}
			}
		})
	}
}
