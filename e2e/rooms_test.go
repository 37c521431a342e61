package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/protocol"
)

// roomsClient is one client of TestSeveralRooms: its connection spec
// and the additional rooms its token names.
type roomsClient struct {
	spec  clientSpec
	rooms []string
}

// TestSeveralRooms: on two comets, connections in several rooms (the
// token's rooms and JoinRoom) get each room push once; the online
// endpoints and heartbeat replies count every room's members; LeaveRoom
// stops a room's pushes.
func TestSeveralRooms(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	defs := []roomsClient{
		{clientSpec{"x", 0, "tcp", 11, "rooms-x", "live://1", []int32{1000}}, []string{"live://2"}},
		{clientSpec{"y", 1, "ws", 12, "rooms-y", "live://2", []int32{1000}}, nil},
		{clientSpec{"z", 0, "ws", 13, "rooms-z", "", []int32{1000}}, nil},
		{clientSpec{"w", 1, "tcp", 14, "rooms-w", "live://1", []int32{1000}}, []string{"live://1"}},
	}
	f := &fixture{c: c, clients: make(map[string]*tclient)}
	for _, d := range defs {
		f.specs = append(f.specs, d.spec)
		n := f.cometOf(d.spec)
		addr := n.tcp
		if d.spec.transport == "ws" {
			addr = n.ws
		}
		tok := token(d.spec.mid, d.spec.key, d.spec.room, d.spec.accepts...)
		tok.Rooms = d.rooms
		f.clients[d.spec.name] = dialClient(t, d.spec.name, d.spec.transport, addr, tok)
	}
	f.sync(t)
	join := func(name, room string) {
		t.Helper()
		cl := f.clients[name]
		if err := cl.conn.JoinRoom(room); err != nil {
			t.Fatal(err)
		}
		expectRoomReply(t, cl, protocol.OpJoinRoomReply, room, protocol.RoomOK)
	}
	join("y", "live://3")
	join("z", "live://1")
	join("z", "live://3")
	join("z", "live://3") // again: still once

	// Members: live://1 x w z, live://2 x y, live://3 y z.
	f.expectRooms(t, map[string][]string{
		"live://1": {"x", "w", "z"},
		"live://2": {"x", "y"},
		"live://3": {"y", "z"},
	})
	checkOnline(t, c, map[string]any{"1": 3.0, "2": 2.0, "3": 2.0, "4": 0.0},
		[]any{map[string]any{"room_id": "1", "count": 3.0}, map[string]any{"room_id": "2", "count": 2.0}, map[string]any{"room_id": "3", "count": 2.0}})
	checkHeartbeat(t, f.clients["x"], 3) // x's primary room is live://1
	checkHeartbeat(t, f.clients["y"], 2) // live://2

	lz := f.clients["z"]
	if err := lz.conn.LeaveRoom("live://1"); err != nil {
		t.Fatal(err)
	}
	expectRoomReply(t, lz, protocol.OpLeaveRoomReply, "live://1", protocol.RoomOK)
	if err := lz.conn.LeaveRoom("live://1"); err != nil {
		t.Fatal(err)
	}
	expectRoomReply(t, lz, protocol.OpLeaveRoomReply, "live://1", protocol.RoomNotMember)
	f.expectRooms(t, map[string][]string{
		"live://1": {"x", "w"},
		"live://3": {"y", "z"},
	})
	checkOnline(t, c, map[string]any{"1": 2.0, "2": 2.0, "3": 2.0, "4": 0.0}, nil)
	checkHeartbeat(t, f.clients["w"], 2)
}

// expectRooms pushes to each room of members and checks that exactly
// its members get it, once, in one pass per room: a push, then a fence
// to the same room (room pushes keep their order); a closing push by key
// shows that no one else got anything.
func (f *fixture) expectRooms(t *testing.T, members map[string][]string) {
	t.Helper()
	for room, names := range members {
		_, id, _ := cutRoom(room)
		body, fence := "push-"+room, "fence-"+room
		f.c.pushOK(t, "/goim/push/room", url.Values{"operation": {"1001"}, "type": {"live"}, "room": {id}}, body)
		f.c.pushOK(t, "/goim/push/room", url.Values{"operation": {"1001"}, "type": {"live"}, "room": {id}}, fence)
		for _, name := range names {
			got := f.clients[name].until(t, fence)
			if diff := cmp.Diff([]msg{{1001, body}}, got); diff != "" {
				t.Errorf("%s, in %s, received before the fence (-want +got):\n%s", name, room, diff)
			}
		}
	}
	f.c.pushOK(t, "/goim/push/keys", url.Values{"operation": {"1000"}, "keys": f.allKeys()}, "fence-rooms")
	for _, s := range f.specs {
		if got := f.clients[s.name].until(t, "fence-rooms"); len(got) != 0 {
			t.Errorf("%s received pushes to rooms it is not in: %v", s.name, got)
		}
	}
}

// cutRoom splits "type://id".
func cutRoom(room string) (typ, id string, ok bool) {
	i := len("live://")
	if len(room) < i || room[:i] != "live://" {
		return "", "", false
	}
	return "live", room[i:], true
}

// expectRoomReply reads cl's next message, which must be the reply op
// about room with status.
func expectRoomReply(t *testing.T, cl *tclient, op int32, room string, status protocol.RoomStatus) {
	t.Helper()
	m, ok := cl.next(recvTimeout)
	if !ok {
		t.Fatalf("%s: no reply to op %d (read error %v)", cl.name, op-1, cl.err())
	}
	st, id, ok := client.RoomReply(client.Message{Op: m.Op, Body: []byte(m.Body)})
	if !ok || m.Op != op || id != room || st != status {
		t.Fatalf("%s: got op %d body %q, want op %d for %s with status %v", cl.name, m.Op, m.Body, op, room, status)
	}
}

// checkOnline waits until /goim/online/room for rooms 1 to 4 of type live
// answers rooms and, unless top is nil, /goim/online/top answers top.
func checkOnline(t *testing.T, c *cluster, rooms map[string]any, top []any) {
	t.Helper()
	checks := []struct {
		path string
		q    url.Values
		want any
	}{
		{"/goim/online/room", url.Values{"type": {"live"}, "rooms": {"1,2,3,4"}}, rooms},
	}
	if top != nil {
		checks = append(checks, struct {
			path string
			q    url.Values
			want any
		}{"/goim/online/top", url.Values{"type": {"live"}, "limit": {"10"}}, top})
	}
	for _, ch := range checks {
		testwait.ForReason(t, recvTimeout, "GET "+ch.path, func() (bool, string) {
			status, r := c.get(t, ch.path, ch.q)
			if status != http.StatusOK || r.Code != 0 {
				return false, fmt.Sprintf("HTTP %d %+v", status, r)
			}
			var got any
			decode(t, r, &got)
			diff := cmp.Diff(ch.want, got)
			return diff == "", "(-want +got):\n" + diff
		})
	}
}

// checkHeartbeat waits until cl's heartbeat reply counts want (the
// cluster-wide count of its primary room, which follows the comets'
// reports).
func checkHeartbeat(t *testing.T, cl *tclient, want int32) {
	t.Helper()
	var seen []int32
	testwait.ForReason(t, recvTimeout, cl.name+"'s heartbeat count", func() (bool, string) {
		if err := cl.conn.Heartbeat(); err != nil {
			t.Fatal(err)
		}
		m, ok := cl.next(recvTimeout)
		if !ok {
			t.Fatalf("%s: no heartbeat reply (read error %v)", cl.name, cl.err())
		}
		n, ok := client.OnlineCount(client.Message{Op: m.Op, Body: []byte(m.Body)})
		if !ok {
			t.Fatalf("%s: got %+v, want a heartbeat reply", cl.name, m)
		}
		seen = append(seen, n)
		time.Sleep(50 * time.Millisecond)
		return n == want, fmt.Sprintf("counts seen %v, want %d", seen, want)
	})
}
