package comet

// room is the set of one bucket's connections in one room. A room id
// spans buckets: each bucket with members of the room has its own room
// value.
//
// A connection is in a room at most once, in one of two lists:
//   - head: the connections for which it is the primary room (auth
//     token's room_id, op 12), an intrusive doubly linked list through
//     conn.prev and conn.next, so join and leave are O(1) and the primary
//     room costs no memory per member beyond those two pointers;
//   - extra: the connections that joined it besides their primary room
//     (token's rooms, op 20), through member nodes allocated per join.
//
// Every field, the prev, next, room and extra fields of its members and
// their member nodes are guarded by the owning bucket's mu.
type room struct {
	id     string
	head   *conn   // members whose primary room this is
	extra  *member // members that joined it as an additional room
	online int32   // members in this bucket, both lists
}

// member is one additional room membership of a connection: a node of
// its room's extra list, held by the connection's extraRooms.
type member struct {
	c          *conn
	r          *room
	prev, next *member
}

// extraRooms is a connection's additional rooms, allocated at its first
// join and dropped when it leaves the last one, so a connection in one
// room pays only the conn.extra pointer.
type extraRooms struct {
	members []*member
}

// empty reports whether r has no member left.
func (r *room) empty() bool { return r.head == nil && r.extra == nil }

// addLocked puts c at the head of r. c must have no primary room.
func (r *room) addLocked(c *conn) {
	c.prev, c.next, c.room = nil, r.head, r
	if r.head != nil {
		r.head.prev = c
	}
	r.head = c
	r.online++
}

// removeLocked takes c, whose primary room is r, out of r.
func (r *room) removeLocked(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		r.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next, c.room = nil, nil, nil
	r.online--
}

// addMemberLocked puts m at the head of r's extra list.
func (r *room) addMemberLocked(m *member) {
	m.prev, m.next, m.r = nil, r.extra, r
	if r.extra != nil {
		r.extra.prev = m
	}
	r.extra = m
	r.online++
}

// removeMemberLocked takes m, in r's extra list, out of it.
func (r *room) removeMemberLocked(m *member) {
	if m.prev != nil {
		m.prev.next = m.next
	} else {
		r.extra = m.next
	}
	if m.next != nil {
		m.next.prev = m.prev
	}
	m.prev, m.next, m.r = nil, nil, nil
	r.online--
}

// extraIndex returns the index of room id among c's additional rooms, or
// -1. The caller holds c's bucket's mu.
func (c *conn) extraIndex(id string) int {
	if c.extra == nil {
		return -1
	}
	for i, m := range c.extra.members {
		if m.r.id == id {
			return i
		}
	}
	return -1
}

// extraLen returns the number of c's additional rooms. The caller holds
// c's bucket's mu.
func (c *conn) extraLen() int {
	if c.extra == nil {
		return 0
	}
	return len(c.extra.members)
}
