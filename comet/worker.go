package comet

import "runtime"

// task is one push handed to a bucket's room worker.
type task struct {
	msg  []byte // the shared message (message.go)
	room string // the room to push to; "" for a broadcast
	op   int32  // a broadcast's op: only connections accepting it get it
}

// tally counts the outcomes of one task, added to the bucket's counters
// once per task rather than once per connection.
type tally struct {
	queued, full, closed uint64
}

// add counts one outcome.
func (t *tally) add(res pushResult) {
	switch res {
	case pushQueued, pushClaimed:
		t.queued++
	case pushQueueFull:
		t.full++
	case pushClosed:
		t.closed++
	}
}

// flush adds t to b's counters.
func (t *tally) flush(b *bucket) {
	if t.queued > 0 {
		b.enqueued.Add(t.queued)
	}
	if t.full > 0 {
		b.drops[DropQueueFull].Add(t.full)
	}
	if t.closed > 0 {
		b.drops[DropClosed].Add(t.closed)
	}
}

// maxWorkerBatch is the most tasks a room worker queues before it writes.
const maxWorkerBatch = 64

// roomWorker is one room worker goroutine's state: the connections whose
// writer it claimed while queueing (pushClaimed), which it then writes to
// itself, and its scratch for those writes.
type roomWorker struct {
	b       *bucket
	claimed []*conn
	w       *rawWriter
}

// runWorker serves one of b's task queues until the comet stops, closing
// started once it is ready to. One
// queue per room (by hash) keeps a room's messages in order within the
// bucket; buckets and queues run in parallel.
//
// A worker queues a task's message to every connection it goes to, then
// writes to those whose writer was idle itself, one connection after the
// other (flush), rather than starting a goroutine per connection: a lone
// message reaches a big room in one pass over its members. Tasks that
// wait meanwhile (a busy room) are queued together, up to maxWorkerBatch,
// before the writes, so each connection gets them in one write.
func (b *bucket) runWorker(tasks <-chan task, started chan<- struct{}, done <-chan struct{}) {
	rw := &roomWorker{b: b, w: newRawWriter()}
	close(started)
	for {
		select {
		case t := <-tasks:
			rw.queue(t)
			n := rw.drain(tasks, 1)
			// Let what is runnable run before writing: on a busy comet the
			// producers queue more meanwhile, and each connection then gets
			// them in one write; on an idle one this costs nothing.
			runtime.Gosched()
			rw.drain(tasks, n)
			rw.write()
		case <-done:
			return
		}
	}
}

// drain queues the tasks waiting in tasks, without waiting, until the
// pass holds maxWorkerBatch; n is how many it holds. It returns the new
// count.
func (rw *roomWorker) drain(tasks <-chan task, n int) int {
	for ; n < maxWorkerBatch; n++ {
		select {
		case t := <-tasks:
			rw.queue(t)
		default:
			return n
		}
	}
	return n
}

// queue queues t's message to its connections in the bucket.
func (rw *roomWorker) queue(t task) {
	var n tally
	if t.room != "" {
		rw.pushRoom(t.room, t.msg, &n)
	} else {
		rw.pushAll(t.msg, t.op, &n)
	}
	n.flush(rw.b)
}

// write writes to the claimed connections and forgets them.
func (rw *roomWorker) write() {
	for _, c := range rw.claimed {
		c.flush(rw.w)
	}
	clear(rw.claimed)
	rw.claimed = rw.claimed[:0]
}

// pushRoom queues msg to every member of room id in the bucket, those
// whose primary room it is and those that joined it besides (each is in
// one of the two lists, so it gets msg once), without op filter.
func (rw *roomWorker) pushRoom(id string, msg []byte, n *tally) {
	b := rw.b
	b.mu.RLock()
	defer b.mu.RUnlock()
	r := b.rooms[id]
	if r == nil {
		return
	}
	for c := r.head; c != nil; c = c.next {
		rw.add(c, c.pushRoom(id, msg), n)
	}
	for m := r.extra; m != nil; m = m.next {
		rw.add(m.c, m.c.push(msg, 0, false, true), n)
	}
}

// pushAll queues msg to every connection of the bucket that accepts op.
func (rw *roomWorker) pushAll(msg []byte, op int32, n *tally) {
	b := rw.b
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, c := range b.conns {
		rw.add(c, c.push(msg, op, true, true), n)
	}
}

// add counts the outcome res of a push to c and remembers c when the
// push claimed its writer.
func (rw *roomWorker) add(c *conn, res pushResult, n *tally) {
	n.add(res)
	if res == pushClaimed {
		rw.claimed = append(rw.claimed, c)
	}
}
