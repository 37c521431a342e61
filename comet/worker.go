package comet

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
	case pushQueued:
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

// runWorker serves one of b's task queues until the comet stops. One
// queue per room (by hash) keeps a room's messages in order within the
// bucket; buckets and queues run in parallel.
func (b *bucket) runWorker(tasks <-chan task, done <-chan struct{}) {
	for {
		select {
		case t := <-tasks:
			var n tally
			if t.room != "" {
				b.pushRoom(t.room, t.msg, &n)
			} else {
				b.pushAll(t.msg, t.op, &n)
			}
			n.flush(b)
		case <-done:
			return
		}
	}
}

// pushRoom enqueues msg to every member of room id in b, without op filter.
func (b *bucket) pushRoom(id string, msg []byte, n *tally) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	r := b.rooms[id]
	if r == nil {
		return
	}
	for c := r.head; c != nil; c = c.next {
		n.add(c.push(msg, 0, false))
	}
}

// pushAll enqueues msg to every connection of b that accepts op.
func (b *bucket) pushAll(msg []byte, op int32, n *tally) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, c := range b.conns {
		n.add(c.push(msg, op, true))
	}
}
