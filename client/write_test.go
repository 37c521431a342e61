package client

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/goimx/goim/protocol"
)

// wirePacket encodes a client packet byte by byte as PROTOCOL.md lays it
// out, independently of the protocol package.
func wirePacket(op, seq int32, body string) []byte {
	n := 16 + len(body)
	b := []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 0, 16, 0, 1}
	b = append(b, byte(op>>24), byte(op>>16), byte(op>>8), byte(op))
	b = append(b, byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq))
	return append(b, body...)
}

// readExact reads the next n bytes of a TCP stream, or the next WebSocket
// message, as they came.
func (sc *serverConn) readExact(n int) ([]byte, error) {
	if sc.ws == nil {
		b, err := sc.rd.Pop(n)
		return bytes.Clone(b), err
	}
	_, msg, err := sc.ws.ReadMessage(nil)
	return msg, err
}

// TestRequests checks the bytes of every request as the server receives
// them, and the replies the client reads back.
func TestRequests(t *testing.T) {
	type request struct {
		send  func(c *Conn) error
		wire  []byte  // bytes the server must receive
		reply Message // what the client then reads
	}
	requests := []request{
		{func(c *Conn) error { return c.Heartbeat() }, wirePacket(2, 2, ""),
			Message{Op: 3, Seq: 2, Body: []byte{0, 0, 0, 42}}},
		{func(c *Conn) error { return c.ChangeRoom("live://1001") }, wirePacket(12, 3, "live://1001"),
			Message{Op: 13, Seq: 3}},
		{func(c *Conn) error { return c.ChangeRoom("") }, wirePacket(12, 4, ""), Message{Op: 13, Seq: 4}},
		{func(c *Conn) error { return c.Sub(1000, 1001) }, wirePacket(14, 5, "1000,1001"), Message{Op: 15, Seq: 5}},
		{func(c *Conn) error { return c.Unsub(1001) }, wirePacket(16, 6, "1001"), Message{Op: 17, Seq: 6}},
		{func(c *Conn) error { return c.Sub() }, wirePacket(14, 7, ""), Message{Op: 15, Seq: 7}},
		{func(c *Conn) error {
			seq, err := c.Send(1000, []byte("hi"))
			if err == nil && seq != 8 {
				t.Errorf("Send returned seq %d, want 8", seq)
			}
			return err
		}, wirePacket(1000, 8, "hi"), Message{Op: 1000, Seq: 8}},
		{func(c *Conn) error { _, err := c.Send(protocol.OpSendMsg, nil); return err }, wirePacket(4, 9, ""),
			Message{Op: 4, Seq: 9}},
		{func(c *Conn) error { return c.JoinRoom("chat://7") }, wirePacket(20, 10, "chat://7"),
			Message{Op: 21, Seq: 10, Body: []byte("\x00chat://7")}},
		{func(c *Conn) error { return c.LeaveRoom("chat://7") }, wirePacket(22, 11, "chat://7"),
			Message{Op: 23, Seq: 11, Body: []byte("\x00chat://7")}},
	}
	for _, transport := range []string{TransportTCP, TransportWS} {
		t.Run(transport, func(t *testing.T) {
			wire := make(chan []byte, 1)
			_, cfg := dialTransport(t, transport, func(sc *serverConn) {
				if _, _, err := sc.acceptAuth(); err != nil {
					return
				}
				for _, r := range requests {
					b, err := sc.readExact(len(r.wire))
					if err != nil {
						return
					}
					wire <- b
					p, _, err := protocol.NextPacket(b, 0)
					if err != nil {
						return
					}
					switch p.Op {
					case protocol.OpHeartbeat:
						err = sc.write(protocol.AppendHeartbeatReply(nil, p.Seq, 42))
					case protocol.OpChangeRoom, protocol.OpSub, protocol.OpUnsub:
						err = sc.reply(p.Op+1, p.Seq, nil)
					case protocol.OpJoinRoom, protocol.OpLeaveRoom:
						err = sc.reply(p.Op+1, p.Seq, protocol.AppendRoomReply(nil, protocol.RoomOK, p.Body))
					default:
						err = sc.reply(p.Op, p.Seq, nil)
					}
					if err != nil {
						return
					}
				}
				sc.serve(0, nil)
			})
			c, err := Dial(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i, r := range requests {
				if err := r.send(c); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if got := <-wire; !bytes.Equal(got, r.wire) {
					t.Errorf("request %d: server got % x, want % x", i, got, r.wire)
				}
				m, err := c.ReadOwned()
				if err != nil {
					t.Fatalf("reply %d: %v", i, err)
				}
				if diff := cmp.Diff(r.reply, m, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("reply %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestOnlineCount(t *testing.T) {
	tests := []struct {
		m      Message
		want   int32
		wantOK bool
	}{
		{Message{Op: 3, Body: []byte{0, 0, 1, 2}}, 258, true},
		{Message{Op: 3, Body: []byte{0xff, 0xff, 0xff, 0xff}}, -1, true},
		{Message{Op: 3}, 0, false},
		{Message{Op: 3, Body: []byte{0, 0, 0, 0, 1}}, 0, false},
		{Message{Op: 1000, Body: []byte{0, 0, 0, 1}}, 0, false},
	}
	for _, tt := range tests {
		got, ok := OnlineCount(tt.m)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("OnlineCount(%v) = %d, %v; want %d, %v", tt.m, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestRoomReply(t *testing.T) {
	tests := []struct {
		m          Message
		wantStatus protocol.RoomStatus
		wantRoom   string
		wantOK     bool
	}{
		{Message{Op: 21, Body: []byte("\x00chat://7")}, protocol.RoomOK, "chat://7", true},
		{Message{Op: 21, Body: []byte("\x01chat://8")}, protocol.RoomLimit, "chat://8", true},
		{Message{Op: 23, Body: []byte("\x03x")}, protocol.RoomNotMember, "x", true},
		{Message{Op: 21}, 0, "", false},
		{Message{Op: 13, Body: []byte("\x00chat://7")}, 0, "", false},
	}
	for _, tt := range tests {
		status, room, ok := RoomReply(tt.m)
		if status != tt.wantStatus || room != tt.wantRoom || ok != tt.wantOK {
			t.Errorf("RoomReply(%v) = %v, %q, %v; want %v, %q, %v", tt.m, status, room, ok, tt.wantStatus, tt.wantRoom, tt.wantOK)
		}
	}
}

func TestSendTooLarge(t *testing.T) {
	_, cfg := dialTransport(t, TransportTCP, func(sc *serverConn) {
		if _, _, err := sc.acceptAuth(); err == nil {
			sc.serve(0, nil)
		}
	})
	cfg.MaxBody = 64
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Send(1000, make([]byte, 65)); !errors.Is(err, protocol.ErrBodyTooLarge) {
		t.Fatalf("Send of 65 bytes with MaxBody 64 = %v, want ErrBodyTooLarge", err)
	}
	// The refusal is not sticky and consumed no sequence number.
	seq, err := c.Send(1000, make([]byte, 64))
	if err != nil || seq != 2 {
		t.Fatalf("Send of 64 bytes = %d, %v; want 2, nil", seq, err)
	}
}

// TestConcurrentWriters sends from many goroutines at once while the
// reader reads the acknowledgements; every packet must arrive whole, with
// a unique sequence number.
func TestConcurrentWriters(t *testing.T) {
	const writers, each = 8, 100
	for _, transport := range []string{TransportTCP, TransportWS} {
		t.Run(transport, func(t *testing.T) {
			got := make(chan protocol.Packet, writers*each*2)
			srvErr := make(chan error, 1)
			_, cfg := dialTransport(t, transport, func(sc *serverConn) {
				if _, _, err := sc.acceptAuth(); err != nil {
					srvErr <- err
					return
				}
				srvErr <- sc.serve(9, got)
			})
			c, err := Dial(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						var err error
						if i%4 == 0 {
							err = c.Heartbeat()
						} else {
							_, err = c.Send(int32(1000+w), []byte("payload"))
						}
						if err != nil {
							t.Errorf("writer %d: %v", w, err)
							return
						}
					}
				})
			}
			acks := 0
			for acks < writers*each {
				m, err := c.Read()
				if err != nil {
					t.Fatalf("Read after %d acks: %v", acks, err)
				}
				if m.Op == protocol.OpHeartbeatReply {
					if n, ok := OnlineCount(m); !ok || n != 9 {
						t.Fatalf("heartbeat reply %v", m)
					}
				} else if string(m.Body) != "" {
					t.Fatalf("ack with a body: %v", m)
				}
				acks++
			}
			wg.Wait()
			c.Close()
			if err := <-srvErr; err != nil {
				t.Fatalf("server: %v", err)
			}
			close(got)
			seen := make(map[int32]bool)
			for p := range got {
				if p.Op != protocol.OpHeartbeat && string(p.Body) != "payload" {
					t.Fatalf("server got a mangled packet %+v", p)
				}
				if seen[p.Seq] {
					t.Fatalf("seq %d sent twice", p.Seq)
				}
				seen[p.Seq] = true
			}
			if len(seen) != writers*each {
				t.Fatalf("server got %d packets, want %d", len(seen), writers*each)
			}
		})
	}
}
