package comet

// room is the set of one bucket's connections in one room: an intrusive
// doubly linked list through conn.prev and conn.next, so join and leave
// are O(1) and a room costs no memory per member beyond those two
// pointers. A room id spans buckets: each bucket with members of the room
// has its own room value.
//
// Every field, and the prev, next and room fields of its members, is
// guarded by the owning bucket's mu.
type room struct {
	id     string
	head   *conn
	online int32 // members in this bucket
}

// addLocked puts c at the head of r. c must be in no room.
func (r *room) addLocked(c *conn) {
	c.prev, c.next, c.room = nil, r.head, r
	if r.head != nil {
		r.head.prev = c
	}
	r.head = c
	r.online++
}

// removeLocked takes c, a member of r, out of r.
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
