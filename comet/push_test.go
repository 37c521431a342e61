package comet

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/rpc"
)

// packetBytes returns the wire bytes of the push packet {1, op, 0, body}.
func packetBytes(op int32, body string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(16+len(body)))
	b = append(b, 0, 16, 0, 1)
	b = binary.BigEndian.AppendUint32(b, uint32(op))
	b = append(b, 0, 0, 0, 0)
	return append(b, body...)
}

// readPushBytes reads n bytes of pushes on TCP, or one frame's payload on
// WebSocket.
func (c *client) readPushBytes(n int) []byte {
	c.t.Helper()
	if c.ws {
		b, err := c.readMessage()
		if err != nil {
			c.t.Fatal(err)
		}
		return b
	}
	b, err := c.readFull(n)
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

// rawBatch returns the op-9 packet wrapping packets (the WebSocket form).
func rawBatch(packets ...[]byte) []byte {
	inner := bytes.Join(packets, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(16+len(inner)))
	b = append(b, 0, 16, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0)
	return append(b, inner...)
}

// expectPushes checks the next bytes c reads are exactly packets, as
// PROTOCOL.md says for c's transport.
func expectPushes(t *testing.T, c *client, packets ...[]byte) {
	t.Helper()
	want := bytes.Join(packets, nil)
	if c.ws {
		want = rawBatch(packets...)
	}
	if got := c.readPushBytes(len(want)); !bytes.Equal(got, want) {
		t.Fatalf("pushed bytes\n got % x\nwant % x", got, want)
	}
}

func authed(t *testing.T, s *server, dial func(testing.TB, *server) *client, tk token, conns int) *client {
	t.Helper()
	c := dial(t, s)
	c.auth(tk)
	testwait.For(t, waitTimeout, "registration", func() bool { return s.cm.Stats().Conns == conns })
	return c
}

func TestPushKeys(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{}, nil)
		a := authed(t, s, dial, token{Key: "a", Accepts: []int32{1000}}, 1)
		b := authed(t, s, dial, token{Key: "b", Accepts: []int32{1000, 1001}}, 2)
		ctx := context.Background()
		push := func(op int32, body string, keys ...string) {
			t.Helper()
			if err := s.cm.PushKeys(ctx, &cometrpc.PushKeysReq{Op: op, Keys: rpc.MakeStringList(keys...), Body: []byte(body)}); err != nil {
				t.Fatal(err)
			}
		}
		push(1001, "filtered for a", "a", "b", "nobody")
		push(1000, "hello", "a")
		expectPushes(t, a, packetBytes(1000, "hello")) // 1001 never reached a
		expectPushes(t, b, packetBytes(1001, "filtered for a"))
		if st := s.cm.Stats(); st.KeyMisses != 1 || st.Enqueued != 2 {
			t.Errorf("stats: misses %d enqueued %d, want 1 and 2", st.KeyMisses, st.Enqueued)
		}
	})
}

func TestBroadcastRoom(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{Buckets: 4}, nil)
		var inRoom []*client
		for i, key := range []string{"a", "b", "c", "d", "e"} {
			inRoom = append(inRoom, authed(t, s, dial, token{Key: key, RoomID: "live://1"}, i+1))
		}
		other := authed(t, s, dial, token{Key: "x", RoomID: "live://2", Accepts: []int32{5}}, 6)
		p1, p2 := packetBytes(1000, "one"), packetBytes(1001, "two")
		batch := slices.Concat(p1, p2)
		ctx := context.Background()
		if err := s.cm.BroadcastRoom(ctx, &cometrpc.BroadcastRoomReq{RoomID: "live://1", Batch: batch}); err != nil {
			t.Fatal(err)
		}
		for _, c := range inRoom {
			expectPushes(t, c, p1, p2)
		}
		if err := s.cm.BroadcastRoom(ctx, &cometrpc.BroadcastRoomReq{RoomID: "live://2", Batch: packetBytes(5, "only x")}); err != nil {
			t.Fatal(err)
		}
		expectPushes(t, other, packetBytes(5, "only x")) // the first room batch never reached x
		rooms, _ := s.cm.Rooms(ctx)
		if !slices.Equal(rooms, []string{"live://1", "live://2"}) {
			t.Errorf("Rooms = %v", rooms)
		}
		if err := s.cm.BroadcastRoom(ctx, &cometrpc.BroadcastRoomReq{RoomID: "live://1"}); err != cometrpc.ErrEmptyPush {
			t.Errorf("empty batch: err %v, want cometrpc.ErrEmptyPush", err)
		}
	})
}

func TestBroadcast(t *testing.T) {
	for _, speed := range []int32{0, 2000} {
		transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
			s := startServer(t, Config{Buckets: 4}, nil)
			var want []*client
			for i := range 6 {
				want = append(want, authed(t, s, dial, token{Key: string(rune('a' + i)), Accepts: []int32{7, 8}}, i+1))
			}
			deaf := authed(t, s, dial, token{Key: "deaf", Accepts: []int32{8}}, 7)
			ctx := context.Background()
			if err := s.cm.Broadcast(ctx, &cometrpc.BroadcastReq{Op: 7, Speed: speed, Body: []byte("all")}); err != nil {
				t.Fatal(err)
			}
			for _, c := range want {
				expectPushes(t, c, packetBytes(7, "all"))
			}
			if err := s.cm.Broadcast(ctx, &cometrpc.BroadcastReq{Op: 8, Body: []byte("marker")}); err != nil {
				t.Fatal(err)
			}
			expectPushes(t, deaf, packetBytes(8, "marker"))
		})
	}
}

func TestSubUnsub(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{}, nil)
		c := authed(t, s, dial, token{Key: "k", Accepts: []int32{1000}}, 1)
		push := func(op int32, body string) {
			t.Helper()
			s.cm.PushKeys(context.Background(), &cometrpc.PushKeysReq{Op: op, Keys: rpc.MakeStringList("k"), Body: []byte(body)})
		}
		exchange := func(op int32, body string, replyOp int32) {
			t.Helper()
			seq := c.send(op, []byte(body))
			p := c.read()
			if p.Op != replyOp || p.Seq != seq || string(p.Body) != body {
				t.Fatalf("reply %+v, want op %d seq %d body %q", p, replyOp, seq, body)
			}
		}
		push(1001, "not yet")
		exchange(protocol.OpSub, "1001,1002", protocol.OpSubReply)
		push(1001, "now")
		expectPushes(t, c, packetBytes(1001, "now"))
		exchange(protocol.OpUnsub, "1000", protocol.OpUnsubReply)
		push(1000, "gone")
		exchange(protocol.OpSub, "12x", protocol.OpSubReply) // malformed: no change
		push(1002, "still")
		expectPushes(t, c, packetBytes(1002, "still"))
	})
}

func TestChangeRoomOnline(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		logic := &fakeLogic{known: true}
		s := startServer(t, Config{Buckets: 2}, logic)
		a := authed(t, s, dial, token{Key: "a", RoomID: "live://1"}, 1)
		b := authed(t, s, dial, token{Key: "b", RoomID: "live://1"}, 2)
		if n := b.heartbeat(); n != 2 {
			t.Fatalf("online before change = %d, want 2", n)
		}
		seq := a.send(protocol.OpChangeRoom, []byte("live://2"))
		if p := a.read(); p.Op != protocol.OpChangeRoomReply || p.Seq != seq || string(p.Body) != "live://2" {
			t.Fatalf("change room reply %+v", p)
		}
		if n := a.heartbeat(); n != 1 {
			t.Errorf("online in new room = %d, want 1", n)
		}
		if n := b.heartbeat(); n != 1 {
			t.Errorf("online in old room = %d, want 1", n)
		}
		// Once logic reports cluster-wide counts, heartbeats carry them.
		logic.mu.Lock()
		logic.extra = 40
		logic.mu.Unlock()
		if err := s.cm.report(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := b.heartbeat(); n != 41 {
			t.Errorf("cluster online = %d, want 41", n)
		}
		a.send(protocol.OpChangeRoom, nil)
		a.read()
		if rooms, _ := s.cm.Rooms(context.Background()); !slices.Equal(rooms, []string{"live://1"}) {
			t.Errorf("rooms after leaving = %v", rooms)
		}
		if n := a.heartbeat(); n != 0 {
			t.Errorf("online without room = %d, want 0", n)
		}
	})
}

func TestSameKeyReplaces(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{}, nil)
		old := authed(t, s, dial, token{Mid: 9, Key: "same", RoomID: "live://1", Accepts: []int32{1}}, 1)
		fresh := dial(t, s)
		fresh.auth(token{Mid: 9, Key: "same", RoomID: "live://1", Accepts: []int32{1}})
		old.expectClosed()
		testwait.For(t, waitTimeout, "replaced close", func() bool { return s.cm.Stats().Closes[CloseReplaced] == 1 })
		st := s.cm.Stats()
		if st.Conns != 1 || st.TCPConns+st.WSConns != 1 {
			t.Errorf("stats after replace: %+v", st)
		}
		if n := fresh.heartbeat(); n != 1 {
			t.Errorf("room online = %d, want 1", n)
		}
		s.logic.mu.Lock()
		firstID := s.logic.connects[0].ConnID
		s.logic.mu.Unlock()
		testwait.For(t, waitTimeout, "disconnect", func() bool { return len(s.logic.disconnected()) == 1 })
		if d := s.logic.disconnected()[0]; d.ConnID != firstID || d.Key != "same" {
			t.Errorf("Disconnect %+v, want conn %d", d, firstID)
		}
		s.cm.PushKeys(context.Background(), &cometrpc.PushKeysReq{Op: 1, Keys: rpc.MakeStringList("same"), Body: []byte("x")})
		expectPushes(t, fresh, packetBytes(1, "x"))
	})
}

func TestReceiveForwarded(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{}, nil)
		c := authed(t, s, dial, token{Mid: 5, Key: "k"}, 1)
		seq := c.send(protocol.OpSendMsg, []byte("hi logic"))
		if p := c.read(); p.Op != protocol.OpSendMsg || p.Seq != seq || len(p.Body) != 0 {
			t.Fatalf("ack %+v, want op 4 seq %d empty", p, seq)
		}
		got := s.logic.received()
		if len(got) != 1 || got[0].Mid != 5 || got[0].Key != "k" || got[0].Op != protocol.OpSendMsg || string(got[0].Body) != "hi logic" {
			t.Errorf("Receive = %+v", got)
		}
	})
}

// TestSubLimit: sub packets cannot grow a connection's accept set past
// maxAccepts, however many distinct ops a client sends; ops already
// accepted keep working, and unsub still removes.
func TestSubLimit(t *testing.T) {
	s := startServer(t, Config{}, nil)
	c := authed(t, s, func(tb testing.TB, s *server) *client { return dialTCP(tb, s.tcp) }, token{Key: "greedy", Accepts: []int32{1}}, 1)
	op := int32(100000)
	for range 2 * maxAccepts / 500 {
		var list []string
		for range 500 {
			list = append(list, strconv.Itoa(int(op)))
			op++
		}
		seq := c.send(protocol.OpSub, []byte(strings.Join(list, ",")))
		if p := c.read(); p.Op != protocol.OpSubReply || p.Seq != seq {
			t.Fatalf("sub reply %+v", p)
		}
	}
	conn := s.cm.bucketByKey("greedy").get("greedy")
	conn.mu.Lock()
	n := len(conn.accepts)
	conn.mu.Unlock()
	if n > maxAccepts {
		t.Fatalf("accept set holds %d ops, want at most %d", n, maxAccepts)
	}
	s.cm.PushKeys(context.Background(), &cometrpc.PushKeysReq{Op: 1, Keys: rpc.MakeStringList("greedy"), Body: []byte("still")})
	expectPushes(t, c, packetBytes(1, "still"))
	seq := c.send(protocol.OpUnsub, []byte("1"))
	if p := c.read(); p.Op != protocol.OpUnsubReply || p.Seq != seq {
		t.Fatalf("unsub reply %+v", p)
	}
	s.cm.PushKeys(context.Background(), &cometrpc.PushKeysReq{Op: 1, Keys: rpc.MakeStringList("greedy"), Body: []byte("gone")})
	s.cm.PushKeys(context.Background(), &cometrpc.PushKeysReq{Op: 100000, Keys: rpc.MakeStringList("greedy"), Body: []byte("kept")})
	expectPushes(t, c, packetBytes(100000, "kept"))
}

// TestPushRightAfterAuth checks that a push made as soon as the client saw
// its auth reply reaches it: the connection is registered before the reply
// goes out, and a push that races the reply follows it on the wire.
func TestPushRightAfterAuth(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{}, nil)
		ctx := context.Background()
		for i := range 50 {
			key := fmt.Sprint("k", i)
			c := dial(t, s)
			c.auth(token{Key: key, Accepts: []int32{1000}}) // reads op 8 first
			if err := s.cm.PushKeys(ctx, &cometrpc.PushKeysReq{Op: 1000, Keys: rpc.MakeStringList(key), Body: []byte("now")}); err != nil {
				t.Fatal(err)
			}
			expectPushes(t, c, packetBytes(1000, "now"))
			c.nc.Close()
		}
		if st := s.cm.Stats(); st.KeyMisses != 0 {
			t.Errorf("%d pushes missed a connection that had its auth reply", st.KeyMisses)
		}
	})
}

// TestBroadcastRoomBadBatch: a batch that is not whole packets back to
// back is refused, counted and written to no client; the next good batch
// is the first thing the clients read.
func TestBroadcastRoomBadBatch(t *testing.T) {
	good := packetBytes(1000, "good")
	bad := map[string][]byte{
		"truncated body":     good[:len(good)-1],
		"truncated header":   good[:10],
		"trailing bytes":     append(bytes.Clone(good), 0, 0),
		"packLen under 16":   append([]byte{0, 0, 0, 3}, good[4:]...),
		"headerLen not 16":   append(append(bytes.Clone(good[:4]), 0, 17), good[6:]...),
		"packLen past batch": slices.Concat(good, []byte{0, 0, 1, 0, 0, 16, 0, 1, 0, 0, 3, 232, 0, 0, 0, 0}, []byte("short")),
		"raw bytes":          []byte("\r\nHTTP/1.1 200 OK\r\n\r\n<script>"),
	}
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{}, nil)
		c := authed(t, s, dial, token{Key: "a", RoomID: "live://1"}, 1)
		ctx := context.Background()
		var n uint64
		for name, batch := range bad {
			err := s.cm.BroadcastRoom(ctx, &cometrpc.BroadcastRoomReq{RoomID: "live://1", Batch: batch})
			if !errors.Is(err, ErrBadBatch) {
				t.Errorf("%s: err %v, want ErrBadBatch", name, err)
			}
			n++
			if st := s.cm.Stats(); st.BadBatches != n || st.Enqueued != 0 {
				t.Fatalf("%s: BadBatches %d, Enqueued %d; want %d and 0", name, st.BadBatches, st.Enqueued, n)
			}
		}
		if err := s.cm.BroadcastRoom(ctx, &cometrpc.BroadcastRoomReq{RoomID: "live://1", Batch: good}); err != nil {
			t.Fatal(err)
		}
		expectPushes(t, c, good)
	})
}
