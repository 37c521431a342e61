package logic

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Top is one room of /online/top.
type Top struct {
	RoomID string `json:"room_id"`
	Count  int32  `json:"count"`
}

// OnlineTotal is the data of /online/total.
type OnlineTotal struct {
	ConnCount int64 `json:"conn_count"`
	IPCount   int64 `json:"ip_count"`
}

// RoomKey returns the room id of room within type typ: "typ://room".
func RoomKey(typ, room string) string { return typ + "://" + room }

// onlineTop returns the at most limit most populated rooms of type typ
// across live comets, highest count first (ties by room id).
func (r *registry) onlineTop(typ string, limit int, now time.Time) []Top {
	prefix := typ + "://"
	tops := []Top{}
	r.mu.Lock()
	r.expireLocked(now)
	for room, c := range r.rooms {
		if id, ok := strings.CutPrefix(room, prefix); ok {
			tops = append(tops, Top{RoomID: id, Count: clamp32(c)})
		}
	}
	r.mu.Unlock()
	slices.SortFunc(tops, func(a, b Top) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.RoomID, b.RoomID)
	})
	if len(tops) > limit {
		tops = tops[:limit]
	}
	return tops
}

// onlineRooms returns the count of each room id of type typ across live
// comets; an empty room counts 0.
func (r *registry) onlineRooms(typ string, rooms []string, now time.Time) map[string]int32 {
	out := make(map[string]int32, len(rooms))
	r.mu.Lock()
	r.expireLocked(now)
	for _, room := range rooms {
		out[room] = clamp32(r.rooms[RoomKey(typ, room)])
	}
	r.mu.Unlock()
	return out
}

// onlineTotal sums the connection and IP counts of the live comets.
func (r *registry) onlineTotal(now time.Time) OnlineTotal {
	var t OnlineTotal
	r.mu.Lock()
	r.expireLocked(now)
	for _, e := range r.comets {
		t.ConnCount += int64(max(e.info.ConnCount, 0))
		t.IPCount += int64(max(e.info.IPCount, 0))
	}
	r.mu.Unlock()
	return t
}
