package comet

import (
	"sync"
	"sync/atomic"

	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/protocol"
)

// bucket is one shard of the comet's connections, chosen by
// xxhash(key) for authenticated connections and by connection id for
// those still in their handshake. It owns its connections' key map, its
// rooms and its room workers' queues.
//
// Lock order (docs/locking.md): bucket.mu, then conn.mu. Nothing that can
// block (a socket write, a logic call, a channel send) happens while mu is
// held; pushes under mu only enqueue, which never blocks.
type bucket struct {
	cm *Comet

	// tasks are the room worker queues, each made with its worker on
	// first use (queue): a comet that never pushes to rooms keeps neither
	// the queues (Config.RoomQueue tasks each, which the collector scans
	// and so keeps resident) nor the goroutines.
	tasks    []atomic.Pointer[chan task]
	queueLen int        // capacity of each queue in tasks
	tasksMu  sync.Mutex // serializes the making of queues in tasks

	// mu guards conns, pending and rooms, every room in rooms with its
	// member nodes, and the room, prev, next and extra fields of every
	// connection in them.
	mu      sync.RWMutex
	conns   map[string]*conn   // authenticated connections by key
	pending map[*conn]struct{} // connections still in their handshake
	rooms   map[string]*room   // rooms with at least one member here

	enqueued  atomic.Uint64                 // messages put on send queues
	drops     [numDropReasons]atomic.Uint64 // messages dropped, by reason
	queuePeak atomic.Int64                  // the most one send queue here held (queueCost)
}

// notePeak raises queuePeak to queued when it is higher.
func (b *bucket) notePeak(queued int64) {
	for {
		peak := b.queuePeak.Load()
		if queued <= peak || b.queuePeak.CompareAndSwap(peak, queued) {
			return
		}
	}
}

// newBucket returns an empty bucket of cm with workers queues of size
// queue, made with their workers on first use.
func newBucket(cm *Comet, workers, queue int) *bucket {
	return &bucket{
		cm:       cm,
		tasks:    make([]atomic.Pointer[chan task], workers),
		queueLen: queue,
		conns:    make(map[string]*conn),
		pending:  make(map[*conn]struct{}),
		rooms:    make(map[string]*room),
	}
}

// queue returns room worker queue w, making it and starting its worker
// (counted in cm.bg) on first use. It returns ErrServerClosed when the
// queue was never made and the comet's background goroutines stopped.
func (b *bucket) queue(w int) (chan<- task, error) {
	if q := b.tasks[w].Load(); q != nil {
		return *q, nil
	}
	b.tasksMu.Lock()
	defer b.tasksMu.Unlock()
	if q := b.tasks[w].Load(); q != nil {
		return *q, nil
	}
	q := make(chan task, b.queueLen)
	started := make(chan struct{})
	if !b.cm.goBackground(func() { b.runWorker(q, started, b.cm.done) }) {
		return nil, ErrServerClosed
	}
	// Wait until the worker runs, so that a push finds it waiting on its
	// queue, as a worker started with the comet would be: pushes into
	// different queues are then taken in the order they came, as before.
	<-started
	b.tasks[w].Store(&q)
	return q, nil
}

// addPending records c as in its handshake. It reports false when the
// comet is closing (c must then be closed).
func (b *bucket) addPending(c *conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cm.closing.Load() {
		return false
	}
	b.pending[c] = struct{}{}
	return true
}

// delPending forgets c as in its handshake.
func (b *bucket) delPending(c *conn) {
	b.mu.Lock()
	delete(b.pending, c)
	b.mu.Unlock()
}

// put registers the authenticated c under its key, in room roomID
// (empty: none) as its primary room and in rooms (distinct, none of them
// roomID or empty: see extraRoomIDs) as additional ones. A connection it
// replaces is taken out of its rooms and returned, for the caller to
// close. ok is false when the comet is closing; c is then not
// registered.
func (b *bucket) put(c *conn, roomID string, rooms []string) (old *conn, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cm.closing.Load() {
		return nil, false
	}
	old = b.conns[c.key]
	if old != nil {
		b.leaveAllLocked(old)
	}
	b.conns[c.key] = c
	if roomID != "" {
		b.joinLocked(c, roomID)
	}
	for _, id := range rooms {
		b.joinExtraLocked(c, id)
	}
	return old, true
}

// del removes c from its rooms and, unless a newer connection took its
// key, from the key map. It reports whether c was registered.
func (b *bucket) del(c *conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.leaveAllLocked(c)
	if b.conns[c.key] != c {
		return false
	}
	delete(b.conns, c.key)
	return true
}

// changeRoom makes room roomID c's primary room (empty: no primary
// room), leaving the primary room it had. A room c had joined as an
// additional one becomes its primary room, so c stays in it once.
func (b *bucket) changeRoom(c *conn, roomID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conns[c.key] != c {
		return // replaced meanwhile: it stays out of rooms
	}
	if c.room != nil && c.room.id == roomID {
		return
	}
	b.leavePrimaryLocked(c)
	if roomID == "" {
		return
	}
	if i := c.extraIndex(roomID); i >= 0 {
		b.leaveExtraLocked(c, i)
	}
	b.joinLocked(c, roomID)
}

// join adds c to room id besides the rooms it is in, unless it would then
// be in more than limit additional rooms (negative: no limit). Being in
// the room already is RoomOK.
func (b *bucket) join(c *conn, id string, limit int) protocol.RoomStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conns[c.key] != c {
		return protocol.RoomOK // replaced meanwhile: closing, it stays out of rooms
	}
	if (c.room != nil && c.room.id == id) || c.extraIndex(id) >= 0 {
		return protocol.RoomOK
	}
	if limit >= 0 && c.extraLen() >= limit {
		return protocol.RoomLimit
	}
	b.joinExtraLocked(c, id)
	return protocol.RoomOK
}

// leave takes c out of room id, its primary room or an additional one.
func (b *bucket) leave(c *conn, id string) protocol.RoomStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.room != nil && c.room.id == id {
		b.leavePrimaryLocked(c)
		return protocol.RoomOK
	}
	if i := c.extraIndex(id); i >= 0 {
		b.leaveExtraLocked(c, i)
		return protocol.RoomOK
	}
	return protocol.RoomNotMember
}

// roomLocked returns room id, creating it.
func (b *bucket) roomLocked(id string) *room {
	r := b.rooms[id]
	if r == nil {
		r = &room{id: id}
		b.rooms[id] = r
	}
	return r
}

// joinLocked makes room id, created if needed, the primary room of c,
// which has none and is not in id.
func (b *bucket) joinLocked(c *conn, id string) {
	b.roomLocked(id).addLocked(c)
}

// joinExtraLocked adds c, not in room id, to room id as an additional
// room.
func (b *bucket) joinExtraLocked(c *conn, id string) {
	m := &member{c: c}
	b.roomLocked(id).addMemberLocked(m)
	if c.extra == nil {
		c.extra = &extraRooms{}
	}
	c.extra.members = append(c.extra.members, m)
}

// leaveAllLocked takes c out of every room it is in.
func (b *bucket) leaveAllLocked(c *conn) {
	b.leavePrimaryLocked(c)
	for c.extra != nil {
		b.leaveExtraLocked(c, len(c.extra.members)-1)
	}
}

// leavePrimaryLocked takes c out of its primary room, if any, deleting
// the room when it empties.
func (b *bucket) leavePrimaryLocked(c *conn) {
	r := c.room
	if r == nil {
		return
	}
	r.removeLocked(c)
	b.dropIfEmptyLocked(r)
}

// leaveExtraLocked takes c out of its i-th additional room, deleting the
// room when it empties and c's extraRooms when it was the last.
func (b *bucket) leaveExtraLocked(c *conn, i int) {
	ms := c.extra.members
	m := ms[i]
	r := m.r
	r.removeMemberLocked(m)
	m.c = nil
	b.dropIfEmptyLocked(r)
	ms[i] = ms[len(ms)-1]
	ms[len(ms)-1] = nil
	c.extra.members = ms[:len(ms)-1]
	if len(c.extra.members) == 0 {
		c.extra = nil
	}
}

// dropIfEmptyLocked deletes r from the bucket when it has no member.
func (b *bucket) dropIfEmptyLocked(r *room) {
	if r.empty() {
		delete(b.rooms, r.id)
	}
}

// get returns the connection with key, or nil.
func (b *bucket) get(key string) *conn {
	b.mu.RLock()
	c := b.conns[key]
	b.mu.RUnlock()
	return c
}

// getBytes is get for a key held as bytes, without making it a string.
func (b *bucket) getBytes(key []byte) *conn {
	b.mu.RLock()
	c := b.conns[string(key)]
	b.mu.RUnlock()
	return c
}

// roomOnline returns the number of members of room id in this bucket.
func (b *bucket) roomOnline(id string) int32 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if r := b.rooms[id]; r != nil {
		return r.online
	}
	return 0
}

// snapshot returns the bucket's authenticated connections and those
// still in their handshake.
func (b *bucket) snapshot() (authed, pending []*conn) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	authed = make([]*conn, 0, len(b.conns))
	for _, c := range b.conns {
		authed = append(authed, c)
	}
	pending = make([]*conn, 0, len(b.pending))
	for c := range b.pending {
		pending = append(pending, c)
	}
	return authed, pending
}

// count adds this bucket's per-room member counts to rooms and returns its
// number of authenticated connections.
func (b *bucket) count(rooms map[string]int32) int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for id, r := range b.rooms {
		rooms[id] += r.online
	}
	return len(b.conns)
}

// record adds the outcome of one push to the bucket's counters.
func (b *bucket) record(res pushResult) {
	switch res {
	case pushQueued, pushClaimed:
		b.enqueued.Add(1)
	case pushQueueFull:
		b.drops[DropQueueFull].Add(1)
	case pushClosed:
		b.drops[DropClosed].Add(1)
	}
}

// roomOf returns the id of c's primary room, or "".
func (b *bucket) roomOf(c *conn) string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if c.room == nil {
		return ""
	}
	return c.room.id
}

// sessions appends a session for each authenticated connection of b.
func (b *bucket) sessions(dst []logicrpc.Session) []logicrpc.Session {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for key, c := range b.conns {
		s := logicrpc.Session{Mid: c.mid, Key: key, ConnID: c.id}
		if c.room != nil {
			s.RoomID = c.room.id
		}
		dst = append(dst, s)
	}
	return dst
}
