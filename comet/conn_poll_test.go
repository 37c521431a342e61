package comet

import (
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// readPaths are the ways a comet reads its connections: the default
// (connections parked in pollers on Linux, their descriptors owned by
// the comet), parked connections kept in the net package, and a reader
// goroutine per connection.
var readPaths = []struct {
	name string
	cfg  Config
}{
	{"poller", Config{}},
	{"poller-net", Config{NetConns: true}},
	{"goroutine", Config{ReadPollers: -1}},
}

// eachReadPath runs f with each of readPaths.
func eachReadPath(t *testing.T, f func(t *testing.T, cfg Config)) {
	for _, tt := range readPaths {
		t.Run(tt.name, func(t *testing.T) { f(t, tt.cfg) })
	}
}

// dialTransport connects a raw client over TCP, or WebSocket with ws.
func dialTransport(t *testing.T, s *server, ws bool) *client {
	if ws {
		return dialWS(t, s.ws)
	}
	return dialTCP(t, s.tcp)
}

// TestReadInPieces: packets and WebSocket frames that arrive in pieces,
// over several wake-ups of a parked connection, and several packets in
// one write are each read and answered, in order.
func TestReadInPieces(t *testing.T) {
	eachReadPath(t, func(t *testing.T, cfg Config) {
		for _, ws := range []bool{false, true} {
			t.Run(fmt.Sprint("ws=", ws), func(t *testing.T) {
				s := startServer(t, cfg, nil)
				c := dialTransport(t, s, ws)
				c.auth(token{Key: "pieces", RoomID: "live://1"})
				var stream []byte
				for seq := int32(1); seq <= 3; seq++ {
					p := (&protocol.Packet{Ver: 1, Op: protocol.OpChangeRoom, Seq: seq, Body: []byte("live://2")}).Append(nil)
					if ws {
						p = websocket.AppendMaskedFrame(nil, websocket.OpBinary, [4]byte{9, 8, 7, 6}, p)
					}
					stream = append(stream, p...)
				}
				// Cut inside the first header, inside the first body,
				// between packets and inside the third one.
				for _, piece := range [][2]int{{0, 3}, {3, 12}, {12, 20}, {20, len(stream) - 5}, {len(stream) - 5, len(stream)}} {
					c.writeRaw(stream[piece[0]:piece[1]])
					time.Sleep(20 * time.Millisecond)
				}
				for seq := int32(1); seq <= 3; seq++ {
					if p := c.read(); p.Op != protocol.OpChangeRoomReply || p.Seq != seq || string(p.Body) != "live://2" {
						t.Fatalf("reply %d = %+v", seq, p)
					}
				}
				c.heartbeat()
			})
		}
	})
}

// TestParkedCloses: a parked connection is torn down with the right
// reason when its heartbeat deadline passes, when the client closes, and
// when the comet shuts down; every close is counted once.
func TestParkedCloses(t *testing.T) {
	eachReadPath(t, func(t *testing.T, cfg Config) {
		for _, ws := range []bool{false, true} {
			t.Run(fmt.Sprint("ws=", ws), func(t *testing.T) {
				s := startServer(t, cfg, &fakeLogic{heartbeat: 200 * time.Millisecond})
				quiet, leaving, alive := dialTransport(t, s, ws), dialTransport(t, s, ws), dialTransport(t, s, ws)
				quiet.auth(token{Key: "quiet"})
				leaving.auth(token{Key: "leaving"})
				alive.auth(token{Key: "alive"})
				leaving.nc.Close()
				testwait.For(t, waitTimeout, "client close", func() bool { return s.cm.Stats().Closes[CloseClient] == 1 })
				testwait.For(t, waitTimeout, "timeout close", func() bool {
					alive.heartbeat() // keeps alive within its deadline
					time.Sleep(20 * time.Millisecond)
					return s.cm.Stats().Closes[CloseHeartbeatTimeout] == 1
				})
				quiet.expectClosed()
				if err := s.cm.Close(); err != nil {
					t.Fatal(err)
				}
				alive.expectClosed()
				st := s.cm.Stats()
				if st.Conns != 0 || st.Closes[CloseShutdown] != 1 || st.Closes[CloseClient] != 1 || st.Closes[CloseHeartbeatTimeout] != 1 {
					t.Errorf("after Close: conns %d, closes %v", st.Conns, st.Closes)
				}
			})
		}
	})
}

// TestReplacedWhileParked: a second connection with the same key closes
// the parked first one.
func TestReplacedWhileParked(t *testing.T) {
	eachReadPath(t, func(t *testing.T, cfg Config) {
		s := startServer(t, cfg, nil)
		first := dialWS(t, s.ws)
		first.auth(token{Key: "same"})
		second := dialTCP(t, s.tcp)
		second.auth(token{Key: "same"})
		first.expectClosed()
		testwait.For(t, waitTimeout, "replaced close", func() bool { return s.cm.Stats().Closes[CloseReplaced] == 1 })
		second.heartbeat()
	})
}

// TestIdleConnsHaveNoGoroutine: with pollers, authenticated idle
// connections add no goroutine, also after a heartbeat each; with a
// reader goroutine per connection they add one each.
func TestIdleConnsHaveNoGoroutine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("connections are parked on Linux only")
	}
	const n = 100
	eachReadPath(t, func(t *testing.T, cfg Config) {
		for _, ws := range []bool{false, true} {
			t.Run(fmt.Sprint("ws=", ws), func(t *testing.T) {
				s := startServer(t, cfg, nil)
				base := runtime.NumGoroutine()
				conns := make([]*client, n)
				for i := range conns {
					conns[i] = dialTransport(t, s, ws)
					conns[i].auth(token{Key: fmt.Sprint("idle-", i)})
				}
				for _, c := range conns {
					c.heartbeat()
				}
				// Readers and writers exit just after their last write.
				var grown int
				deadline := time.Now().Add(waitTimeout)
				for {
					grown = runtime.NumGoroutine() - base
					if cfg.ReadPollers < 0 || grown < n/10 || time.Now().After(deadline) {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				if cfg.ReadPollers < 0 {
					// Goroutines of the test's start (an RPC link being set
					// up, say) may have ended meanwhile: allow a few.
					if grown < n-n/10 {
						t.Errorf("%d goroutines for %d connections with a reader each, want about %d", grown, n, n)
					}
				} else if grown >= n/10 {
					t.Errorf("%d goroutines for %d parked connections, want fewer than %d", grown, n, n/10)
				}
			})
		}
	})
}

// BenchmarkHeartbeatRoundTrip measures one heartbeat and its reply over
// loopback on each read path: on the poller path every heartbeat wakes a
// parked connection, starts a reader, handles the packet and parks again.
func BenchmarkHeartbeatRoundTrip(b *testing.B) {
	for _, tt := range readPaths {
		for _, ws := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/ws=%v", tt.name, ws), func(b *testing.B) {
				s := startServer(b, withoutLimits(tt.cfg), &fakeLogic{})
				c := dialTCP(b, s.tcp)
				if ws {
					c = dialWS(b, s.ws)
				}
				c.auth(token{Key: "k"})
				msg := (&protocol.Packet{Ver: 1, Op: protocol.OpHeartbeat, Seq: 1}).Append(nil)
				reply := make([]byte, 20)
				if ws {
					msg = websocket.AppendMaskedFrame(nil, websocket.OpBinary, [4]byte{1, 2, 3, 4}, msg)
					reply = make([]byte, 2+20)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.nc.Write(msg); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(c.r, reply); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestParkStress: connections sending heartbeats back to back while they
// are replaced by newer ones with the same key or closed by their
// clients are each torn down exactly once: every connection
// accepted is counted in exactly one close reason and logic hears one
// Disconnect per Connect.
func TestParkStress(t *testing.T) {
	const keys, rounds = 8, 6
	eachReadPath(t, func(t *testing.T, cfg Config) {
		s := startServer(t, cfg, nil)
		t.Run("clients", func(t *testing.T) { // returns once every parallel key is done
			for k := range keys {
				t.Run(fmt.Sprint("key-", k), func(t *testing.T) {
					t.Parallel()
					stressKey(t, s, fmt.Sprint("stress-", k), rounds)
				})
			}
		})
		if err := s.cm.Close(); err != nil {
			t.Fatal(err)
		}
		st := s.cm.Stats()
		var closed uint64
		for _, n := range st.Closes {
			closed += n
		}
		s.logic.mu.Lock()
		connects := len(s.logic.connects)
		s.logic.mu.Unlock()
		if st.Conns != 0 || closed != keys*rounds || connects != keys*rounds {
			t.Errorf("conns %d, %d closes %v, %d connects; want 0 and %d", st.Conns, closed, st.Closes, connects, keys*rounds)
		}
		if d := len(s.logic.disconnected()); d != connects {
			t.Errorf("%d disconnects for %d connects", d, connects)
		}
	})
}

// stressKey connects rounds connections with key one after the other,
// alternating TCP and WebSocket, each sending heartbeats back to back;
// some are closed by the client, the others replaced by the next one;
// the last one is closed when the subtest ends.
func stressKey(t *testing.T, s *server, key string, rounds int) {
	for r := range rounds {
		c := dialTransport(t, s, r%2 == 1)
		c.auth(token{Key: key})
		beat := (&protocol.Packet{Ver: 1, Op: protocol.OpHeartbeat}).Append(nil)
		if c.ws {
			beat = websocket.AppendMaskedFrame(nil, websocket.OpBinary, [4]byte{1, 2, 3, 4}, beat)
		}
		for range 20 {
			if _, err := c.nc.Write(beat); err != nil {
				break
			}
		}
		if r%3 == 0 && r != rounds-1 {
			c.nc.Close()
		}
	}
}
