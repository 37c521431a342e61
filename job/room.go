package job

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/protocol"
)

// roomShards is the number of room map shards (a power of two).
const roomShards = 64

// roomSet holds the rooms with state, sharded by a hash of the room id so
// pushes to different rooms rarely share a lock.
//
// Lock order of the package: Job.refreshMu, roomShard.mu, room.mu,
// cometWorker.mu. Handing a batch to the comets under room.mu only takes
// cometWorker.mu for reading and queues without blocking (enqueue); a
// stopping worker (under refreshMu) releases its queued batches, which may
// lock their rooms, after it let go of its own mu.
type roomSet struct {
	seed   maphash.Seed
	shards [roomShards]roomShard
}

// roomShard is one shard of a roomSet.
type roomShard struct {
	mu     sync.Mutex // guards closed and rooms; taken before a room's mu
	closed bool       // no more messages: the job is shutting down
	rooms  map[string]*room
}

// room batches the messages of one room. It has no goroutine of its own.
// A message for a room that sent nothing within the last BatchWindow goes
// out at once (leading edge). A message arriving sooner waits in pending
// and goes out with the others at lastSend + BatchWindow (the window
// timer), or earlier once BatchSize messages or BatchBytes bytes
// accumulate. So under load a room sends about one batch per window,
// whatever its message rate, and an idle room adds no latency.
type room struct {
	j  *Job
	id string

	mu       sync.Mutex  // guards the fields below
	epoch    uint32      // random, non-zero: names this run of seq numbers
	seq      uint32      // sequence number of the room's last message, 0 before the first
	hist     history     // the last messages, for clients that resume
	pending  *payload    // batch being filled, nil when none
	lastSend time.Time   // when the room last handed a batch to the comets
	inflight int         // batches handed to comets and not yet released by all
	touched  bool        // a message arrived since the last idle sweep
	timer    *time.Timer // window timer, made at first use
}

// init makes the shard maps.
func (s *roomSet) init() {
	s.seed = maphash.MakeSeed()
	for i := range s.shards {
		s.shards[i].rooms = make(map[string]*room)
	}
}

// shard returns the shard of room id.
func (s *roomSet) shard(id string) *roomShard {
	return &s.shards[maphash.String(s.seed, id)&(roomShards-1)]
}

// count returns the number of rooms with state.
func (s *roomSet) count() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.rooms)
		sh.mu.Unlock()
	}
	return n
}

// pushRoom adds a room message to its room's batch.
func (j *Job) pushRoom(m *jobrpc.PushMsg) error {
	if m.Room == "" {
		j.stats.rejectedBad.Add(1)
		return fmt.Errorf("%w: room push without room", jobrpc.ErrBadPush)
	}
	sh := j.rooms.shard(m.Room)
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		j.stats.rejectedClosed.Add(1)
		return ErrServerClosed
	}
	r := sh.roomLocked(j, m.Room)
	r.mu.Lock()
	sh.mu.Unlock()
	out := r.addLocked(m.Op, m.Msg, m.Stamp)
	r.mu.Unlock()
	j.stats.pushRoom.Add(1)
	if out != nil {
		j.release(out)
	}
	return nil
}

// roomLocked returns the room id, made (with a new epoch) when it has no
// state. sh.mu must be held.
func (sh *roomShard) roomLocked(j *Job, id string) *room {
	r := sh.rooms[id]
	if r == nil {
		r = &room{j: j, id: strings.Clone(id), epoch: newEpoch()}
		sh.rooms[r.id] = r
	}
	return r
}

// newEpoch returns a random non-zero room epoch.
func newEpoch() uint32 {
	for {
		if e := rand.Uint32(); e != 0 {
			return e
		}
	}
}

// addLocked gives one message, accepted by logic at stamp, the room's
// next sequence number, records it in the history, appends it to the
// pending batch and flushes the batch when it is due. The batch carries
// the stamp of its oldest stamped message. It returns the flushed batch,
// which the caller must release after unlocking r.mu, or nil.
func (r *room) addLocked(op int32, msg []byte, stamp int64) *payload {
	r.touched = true
	now := time.Now()
	r.seq++
	if r.seq == 0 { // wrapped: a new run of numbers under a new epoch
		r.epoch, r.seq = newEpoch(), 1
		r.hist.reset()
	}
	p := r.pending
	if p == nil {
		p = r.j.pool.get()
		p.kind, p.room, p.roomID = jobrpc.PushRoom, r, r.id
		r.pending = p
	}
	start := len(p.buf)
	p.buf = protocol.AppendPushSeq(p.buf, op, r.seq, msg)
	p.msgs++
	if c := &r.j.cfg; c.HistorySize > 0 {
		r.hist.prune(now, c.HistoryAge)
		r.hist.add(r.seq, now, p.buf[start:], c.HistorySize)
	}
	if p.stamp == 0 {
		p.stamp = stamp
	}
	if r.dueLocked(now) {
		return r.flushLocked(now)
	}
	if p.msgs == 1 {
		r.armLocked(now)
	}
	return nil
}

// dueLocked reports whether the pending batch must go at now: batching is
// off, the room sent nothing within the last window, or the batch is full.
func (r *room) dueLocked(now time.Time) bool {
	c := &r.j.cfg
	return r.j.batchOff || r.windowOverLocked(now) ||
		r.pending.msgs >= uint64(c.BatchSize) || len(r.pending.buf) >= c.BatchBytes
}

// windowOverLocked reports whether a window has passed since the room's
// last send.
func (r *room) windowOverLocked(now time.Time) bool {
	return now.Sub(r.lastSend) >= r.j.cfg.BatchWindow
}

// armLocked starts the window timer for a new pending batch: it fires at
// lastSend + BatchWindow.
func (r *room) armLocked(now time.Time) {
	d := r.lastSend.Add(r.j.cfg.BatchWindow).Sub(now)
	if r.timer == nil {
		r.timer = time.AfterFunc(d, r.onTimer)
		return
	}
	r.timer.Reset(d)
}

// flushLocked hands the pending batch to every comet and records now as
// the room's last send. It returns the batch, holding one reference the
// caller must release after unlocking r.mu (releasing it may call r.done).
func (r *room) flushLocked(now time.Time) *payload {
	p := r.pending
	r.pending = nil
	r.lastSend = now
	if r.timer != nil {
		r.timer.Stop()
	}
	r.inflight++
	j := r.j
	j.stats.batches.Add(1)
	j.stats.batchedMsgs.Add(p.msgs)
	j.batchSizes.Observe(int64(p.msgs))
	j.fanout(p, j.comets.Load().list)
	return p
}

// flush sends the pending batch now, if any.
func (r *room) flush() { r.flushIf(false) }

// onTimer sends the pending batch whose window elapsed. A late call of a
// timer stopped by a flush finds the new pending batch's window still
// running and leaves it to the re-armed timer.
func (r *room) onTimer() { r.flushIf(true) }

// flushIf sends the pending batch, if any; with windowed, only when the
// window since the last send has passed.
func (r *room) flushIf(windowed bool) {
	r.mu.Lock()
	var out *payload
	now := time.Now()
	if r.pending != nil && (!windowed || r.windowOverLocked(now)) {
		out = r.flushLocked(now)
	}
	r.mu.Unlock()
	if out != nil {
		r.j.release(out)
	}
}

// done is called when every comet has released one of the room's batches.
// Pending messages still wait for their window: sending them as soon as
// the hand-off ends would make nearly every message its own batch, since
// the hand-off is a fast enqueue.
func (r *room) done() {
	r.mu.Lock()
	r.inflight--
	r.mu.Unlock()
}

// sweep drops the rooms that had no message since the previous sweep and
// have nothing pending, in flight or in their history (after dropping
// what is older than maxAge).
func (s *roomSet) sweep(now time.Time, maxAge time.Duration) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for id, r := range sh.rooms {
			r.mu.Lock()
			r.hist.prune(now, maxAge)
			if !r.touched && r.pending == nil && r.inflight == 0 && r.hist.n == 0 {
				delete(sh.rooms, id)
				if r.timer != nil {
					r.timer.Stop()
				}
			}
			r.touched = false
			r.mu.Unlock()
		}
		sh.mu.Unlock()
	}
}

// close refuses further messages and flushes every pending batch.
func (s *roomSet) close() {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.closed = true
		rooms := make([]*room, 0, len(sh.rooms))
		for _, r := range sh.rooms {
			rooms = append(rooms, r)
		}
		sh.mu.Unlock()
		for _, r := range rooms {
			r.flush()
		}
	}
}

// sweepLoop drops idle rooms every RoomIdleTimeout until the job stops.
func (j *Job) sweepLoop() {
	defer j.wg.Done()
	t := time.NewTicker(j.cfg.RoomIdleTimeout)
	defer t.Stop()
	for {
		select {
		case <-j.ctx.Done():
			return
		case now := <-t.C:
			j.rooms.sweep(now, j.cfg.HistoryAge)
		}
	}
}
