package comet

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/protocol"
)

// roomOp sends a join (op 20) or leave (op 22) of room and returns the
// reply's status, checking the reply's op, seq and echoed room id.
func (c *client) roomOp(op int32, room string) protocol.RoomStatus {
	c.t.Helper()
	seq := c.send(op, []byte(room))
	p := c.read()
	status, id, ok := protocol.ParseRoomReply(p.Body)
	if p.Op != op+1 || p.Seq != seq || !ok || string(id) != room {
		c.t.Fatalf("reply to op %d %q = op %d seq %d body %q, want op %d seq %d", op, room, p.Op, p.Seq, p.Body, op+1, seq)
	}
	return status
}

// pushRoom pushes one packet {op 1000, body} to room on s.
func pushRoom(t *testing.T, s *server, room, body string) {
	t.Helper()
	req := &cometrpc.BroadcastRoomReq{RoomID: room, Batch: packetBytes(1000, body)}
	if err := s.cm.BroadcastRoom(context.Background(), req); err != nil {
		t.Fatal(err)
	}
}

// localOnline returns the members of room id across s's buckets.
func localOnline(s *server, id string) int32 {
	var n int32
	for _, b := range s.cm.buckets {
		n += b.roomOnline(id)
	}
	return n
}

// TestSeveralRooms: the token's rooms and op 20 add rooms besides the
// primary one; a room push reaches every member once, whichever way it
// joined; op 22 leaves; online counts and the room list follow; the
// heartbeat reply counts the primary room.
func TestSeveralRooms(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{Buckets: 4, ReportInterval: -1}, nil)
		// Duplicates and the primary room repeated in rooms count once.
		a := authed(t, s, dial, token{Key: "a", RoomID: "live://1", Rooms: []string{"chat://1", "chat://2", "chat://1", "live://1"}}, 1)
		b := authed(t, s, dial, token{Key: "b", RoomID: "chat://1"}, 2)
		c := authed(t, s, dial, token{Key: "c"}, 3)
		if st := c.roomOp(protocol.OpJoinRoom, "chat://2"); st != protocol.RoomOK {
			t.Fatalf("join: %v", st)
		}
		if st := c.roomOp(protocol.OpJoinRoom, "chat://2"); st != protocol.RoomOK {
			t.Fatalf("second join of the same room: %v", st)
		}
		if st := a.roomOp(protocol.OpJoinRoom, "live://1"); st != protocol.RoomOK {
			t.Fatalf("join of the primary room: %v", st)
		}
		for room, want := range map[string]int32{"live://1": 1, "chat://1": 2, "chat://2": 2} {
			if n := localOnline(s, room); n != want {
				t.Errorf("online %s = %d, want %d", room, n, want)
			}
		}
		if rooms, _ := s.cm.Rooms(context.Background()); !slices.Equal(rooms, []string{"chat://1", "chat://2", "live://1"}) {
			t.Errorf("Rooms = %v", rooms)
		}
		if n := a.heartbeat(); n != 1 {
			t.Errorf("a's heartbeat count = %d, want 1 (live://1, its primary room)", n)
		}
		if n := c.heartbeat(); n != 0 {
			t.Errorf("c's heartbeat count = %d, want 0 (no primary room)", n)
		}

		// Each push reaches each member once: a duplicate, queued in the
		// same pass as the first copy, would be read before the next push.
		// (Pushes to different rooms are not ordered with each other, so
		// each is read before the next is sent.)
		pushRoom(t, s, "chat://1", "c1")
		expectPushes(t, a, packetBytes(1000, "c1"))
		expectPushes(t, b, packetBytes(1000, "c1"))
		pushRoom(t, s, "chat://2", "c2")
		expectPushes(t, a, packetBytes(1000, "c2"))
		expectPushes(t, c, packetBytes(1000, "c2"))
		pushRoom(t, s, "live://1", "l1")
		expectPushes(t, a, packetBytes(1000, "l1"))

		if st := a.roomOp(protocol.OpLeaveRoom, "chat://2"); st != protocol.RoomOK {
			t.Fatalf("leave: %v", st)
		}
		if st := a.roomOp(protocol.OpLeaveRoom, "chat://2"); st != protocol.RoomNotMember {
			t.Fatalf("second leave: %v, want not in room", st)
		}
		if st := b.roomOp(protocol.OpLeaveRoom, "chat://1"); st != protocol.RoomOK {
			t.Fatalf("leave of the primary room: %v", st)
		}
		if n := b.heartbeat(); n != 0 {
			t.Errorf("b's heartbeat count after leaving its primary room = %d, want 0", n)
		}
		pushRoom(t, s, "chat://2", "c2 again")
		expectPushes(t, c, packetBytes(1000, "c2 again"))
		pushRoom(t, s, "chat://1", "c1 again")
		expectPushes(t, a, packetBytes(1000, "c1 again")) // not "c2 again"
		pushRoom(t, s, "live://1", "to b?")
		b.send(protocol.OpJoinRoom, []byte("live://1"))
		if p := b.read(); p.Op != protocol.OpJoinRoomReply {
			t.Fatalf("b got %+v before its join reply: a push to a room it had left", p)
		}
		expectPushes(t, a, packetBytes(1000, "to b?"))

		c.nc.Close()
		testwait.For(t, waitTimeout, "c's rooms emptied", func() bool { return localOnline(s, "chat://2") == 0 })
		if rooms, _ := s.cm.Rooms(context.Background()); !slices.Equal(rooms, []string{"chat://1", "live://1"}) {
			t.Errorf("Rooms after c closed = %v", rooms)
		}
	})
}

// TestRoomLimits: a connection has its primary room and at most
// MaxRooms-1 others; a join over that is answered RoomLimit and changes
// nothing; room ids must be 1 to 256 bytes; a token naming too many rooms
// is refused; a negative MaxRooms means no limit.
func TestRoomLimits(t *testing.T) {
	transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
		s := startServer(t, Config{MaxRooms: 3, ReportInterval: -1}, nil)
		a := authed(t, s, dial, token{Key: "a", RoomID: "p", Rooms: []string{"r1"}}, 1)
		if st := a.roomOp(protocol.OpJoinRoom, "r2"); st != protocol.RoomOK {
			t.Fatalf("join r2: %v", st)
		}
		if st := a.roomOp(protocol.OpJoinRoom, "r3"); st != protocol.RoomLimit {
			t.Fatalf("join r3: %v, want too many rooms", st)
		}
		if n := localOnline(s, "r3"); n != 0 {
			t.Errorf("r3 has %d members after a refused join", n)
		}
		// op 12 is never refused: it replaces the primary room.
		seq := a.send(protocol.OpChangeRoom, []byte("p2"))
		if p := a.read(); p.Op != protocol.OpChangeRoomReply || p.Seq != seq {
			t.Fatalf("change room reply %+v", p)
		}
		if st := a.roomOp(protocol.OpLeaveRoom, "r1"); st != protocol.RoomOK {
			t.Fatalf("leave r1: %v", st)
		}
		if st := a.roomOp(protocol.OpJoinRoom, "r3"); st != protocol.RoomOK {
			t.Fatalf("join r3 after a leave: %v", st)
		}
		for _, op := range []int32{protocol.OpJoinRoom, protocol.OpLeaveRoom} {
			for _, id := range []string{"", strings.Repeat("r", maxRoomLen+1)} {
				if st := a.roomOp(op, id); st != protocol.RoomBadID {
					t.Errorf("op %d of a %d-byte room id: %v, want bad room id", op, len(id), st)
				}
			}
		}
		if st := a.roomOp(protocol.OpLeaveRoom, "r3"); st != protocol.RoomOK {
			t.Fatalf("leave r3: %v", st)
		}
		long := strings.Repeat("r", maxRoomLen)
		if st := a.roomOp(protocol.OpJoinRoom, long); st != protocol.RoomOK || localOnline(s, long) != 1 {
			t.Fatalf("join of a 256-byte room id: %v", st)
		}

		over := dial(t, s)
		over.send(protocol.OpAuth, tokenJSON(token{Key: "over", RoomID: "p", Rooms: []string{"p", "x", "y", "z"}}))
		expectPolicyClose(t, over, "too many rooms")
		testwait.For(t, waitTimeout, "close counted", func() bool { return s.cm.Stats().Closes[CloseTooManyRooms] == 1 })
		testwait.For(t, waitTimeout, "logic told", func() bool { return len(s.logic.disconnected()) == 1 })
		for _, id := range []string{"x", "y", "z"} {
			if n := localOnline(s, id); n != 0 {
				t.Errorf("room %s of a refused token has %d members", id, n)
			}
		}

		tooLong := dial(t, s)
		tooLong.send(protocol.OpAuth, tokenJSON(token{Key: "long", Rooms: []string{strings.Repeat("r", maxRoomLen+1)}}))
		expectPolicyClose(t, tooLong, "room id too long")
	})
	t.Run("no limit", func(t *testing.T) {
		s := startServer(t, Config{MaxRooms: -1, ReportInterval: -1}, nil)
		a := authed(t, s, dialTCPTo, token{Key: "a"}, 1)
		for i := range 40 {
			if st := a.roomOp(protocol.OpJoinRoom, "r"+strings.Repeat("x", i)); st != protocol.RoomOK {
				t.Fatalf("join %d: %v", i, st)
			}
		}
	})
	t.Run("joins off", func(t *testing.T) {
		s := startServer(t, Config{MaxRooms: 1, ReportInterval: -1}, nil)
		a := authed(t, s, dialTCPTo, token{Key: "a", RoomID: "p"}, 1)
		if st := a.roomOp(protocol.OpJoinRoom, "q"); st != protocol.RoomLimit {
			t.Fatalf("join with MaxRooms 1: %v, want too many rooms", st)
		}
	})
}

// dialTCPTo dials s's TCP listener.
func dialTCPTo(tb testing.TB, s *server) *client { return dialTCP(tb, s.tcp) }

// TestChangeRoomToJoined: op 12 to a room the connection joined makes it
// the primary room; the connection stays in it once.
func TestChangeRoomToJoined(t *testing.T) {
	s := startServer(t, Config{ReportInterval: -1}, nil)
	a := authed(t, s, dialTCPTo, token{Key: "a", RoomID: "p", Rooms: []string{"q"}}, 1)
	seq := a.send(protocol.OpChangeRoom, []byte("q"))
	if p := a.read(); p.Op != protocol.OpChangeRoomReply || p.Seq != seq {
		t.Fatalf("change room reply %+v", p)
	}
	if n, m := localOnline(s, "q"), localOnline(s, "p"); n != 1 || m != 0 {
		t.Fatalf("online q %d p %d, want 1 and 0", n, m)
	}
	if n := a.heartbeat(); n != 1 {
		t.Errorf("heartbeat count %d, want 1 (q is the primary room)", n)
	}
	pushRoom(t, s, "q", "once")
	expectPushes(t, a, packetBytes(1000, "once"))
	pushRoom(t, s, "p", "not a")
	pushRoom(t, s, "q", "twice")
	expectPushes(t, a, packetBytes(1000, "twice"))
	if st := a.roomOp(protocol.OpJoinRoom, "q"); st != protocol.RoomOK || localOnline(s, "q") != 1 {
		t.Errorf("join of the primary room: %v, online %d", st, localOnline(s, "q"))
	}
}

// TestReplacedLeavesRooms: a connection replaced by a newer one with the
// same key leaves all its rooms; the newer one is in its own.
func TestReplacedLeavesRooms(t *testing.T) {
	s := startServer(t, Config{ReportInterval: -1}, nil)
	old := authed(t, s, dialTCPTo, token{Key: "k", RoomID: "p", Rooms: []string{"q", "r"}}, 1)
	fresh := dialTCP(t, s.tcp)
	fresh.auth(token{Key: "k", Rooms: []string{"r"}})
	old.expectClosed()
	testwait.For(t, waitTimeout, "old closed", func() bool { return s.cm.Stats().Closes[CloseReplaced] == 1 })
	for room, want := range map[string]int32{"p": 0, "q": 0, "r": 1} {
		if n := localOnline(s, room); n != want {
			t.Errorf("online %s = %d, want %d", room, n, want)
		}
	}
}

// TestBucketRooms checks the bucket's membership lists directly: every
// way in and out keeps each room's count equal to its members, a
// connection in a room once, and drops emptied rooms and extraRooms.
func TestBucketRooms(t *testing.T) {
	cm, err := New(Config{ReportInterval: -1, Buckets: 1}, &fakeLogic{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close()
	a, _ := addSinkConn(cm, "a", "p")
	b, _ := addSinkConn(cm, "b", "q")
	bk := a.bucket
	check := func(step string, want map[string][]*conn) {
		t.Helper()
		bk.mu.RLock()
		defer bk.mu.RUnlock()
		got := make(map[string][]*conn)
		for id, r := range bk.rooms {
			var members []*conn
			for c := r.head; c != nil; c = c.next {
				members = append(members, c)
			}
			for m := r.extra; m != nil; m = m.next {
				members = append(members, m.c)
			}
			if int(r.online) != len(members) {
				t.Errorf("%s: room %s counts %d, has %d", step, id, r.online, len(members))
			}
			got[id] = members
		}
		if len(got) != len(want) {
			t.Errorf("%s: rooms %v, want %v", step, got, want)
		}
		for id, w := range want {
			if !sameConns(got[id], w) {
				t.Errorf("%s: room %s has %v, want %v", step, id, got[id], w)
			}
		}
	}
	check("start", map[string][]*conn{"p": {a}, "q": {b}})
	bk.join(a, "q", 15)
	bk.join(a, "r", 15)
	bk.join(b, "r", 15)
	check("joined", map[string][]*conn{"p": {a}, "q": {a, b}, "r": {a, b}})
	bk.changeRoom(b, "r")
	check("b's primary to r", map[string][]*conn{"p": {a}, "q": {a}, "r": {a, b}})
	if b.extra != nil {
		t.Error("b keeps extraRooms after its only additional room became primary")
	}
	bk.leave(a, "q")
	bk.leave(a, "p")
	check("a left p and q", map[string][]*conn{"r": {a, b}})
	bk.del(a)
	check("a gone", map[string][]*conn{"r": {b}})
	if a.extra != nil || a.room != nil {
		t.Error("a still holds rooms after del")
	}
}

// sameConns reports whether a and b hold the same connections.
func sameConns(a, b []*conn) bool {
	if len(a) != len(b) {
		return false
	}
	for _, c := range a {
		if !slices.Contains(b, c) {
			return false
		}
	}
	return true
}

// TestConnSize pins the size of conn: additional rooms and a resume in
// progress hang off one pointer each, and every idle connection holds
// one, so it stays in the allocator's 288-byte size class (64-bit
// platforms).
func TestConnSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes pinned for 64-bit platforms")
	}
	if n := unsafe.Sizeof(conn{}); n > 288 {
		t.Errorf("conn is %d bytes, want at most 288", n)
	}
}
