package comet

// maxFlushRounds bounds how often flush takes messages queued while it
// wrote before it hands the connection to a writer goroutine, so that one
// busy connection cannot keep its caller (a room worker) for long.
const maxFlushRounds = 4

// flush writes c's waiting messages on the calling goroutine, which
// claimed c's writer (push returned pushClaimed), with non-blocking
// writes. What the socket takes at once is done; what it does not take,
// and a heartbeat reply that waits, go to a writer goroutine, which blocks
// under the write deadline. So a client that reads costs no goroutine
// start per message, and a slow one never holds the caller up. The
// caller holds no lock; w is its scratch state.
func (c *conn) flush(w *rawWriter) {
	for range maxFlushRounds {
		c.wmu.Lock()
		q, hb := c.takeQueue()
		if q == nil {
			c.wmu.Unlock()
			if hb {
				c.handOff(nil)
			}
			return
		}
		done := w.write(c, q)
		c.wmu.Unlock()
		if !done {
			c.handOff(q)
			return
		}
		c.cm.putQueue(q)
	}
	c.handOff(nil)
}

// takeQueue takes the waiting messages for flush. It returns none when
// c is closed, when a heartbeat reply waits (hb: the reply goes to a
// writer goroutine, with the messages), or when nothing waits (the
// writer is then released).
func (c *conn) takeQueue() (q *sendQueue, hb bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, false
	case c.hbWait:
		return nil, true
	case c.queue == nil:
		c.writing = false
		return nil, false
	}
	q = c.queue
	c.queue, c.queued = nil, 0
	return q, false
}

// handOff passes c's writer from flush to a writer goroutine, with rest
// (may be nil: the messages the socket did not take) put back before the
// messages queued meanwhile. On a closed c, rest is dropped and counted.
func (c *conn) handOff(rest *sendQueue) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.dropQueue(rest)
		return
	}
	if rest != nil {
		if c.queue != nil {
			rest.msgs = append(rest.msgs, c.queue.msgs...)
			c.cm.putQueue(c.queue)
		}
		c.queue, c.queued = rest, 0
		for _, m := range rest.msgs {
			c.queued += int32(queueCost(m))
		}
	}
	c.cm.wg.Add(1) // c is not closed: its reader holds a count
	c.mu.Unlock()
	go c.writeFn()
}
