package comet

import (
	"net"
	"slices"
	"time"

	"github.com/goimx/goim/websocket"
)

// sendQueue is a batch of messages waiting for one connection's writer.
// The comet pools them: a connection holds one only while messages wait,
// and its writer takes the whole batch at once. It grows as messages
// arrive (nothing is allocated ahead for an idle connection).
type sendQueue struct {
	msgs [][]byte    // what to write: TCP packets or WebSocket frames, shared (see message.go)
	bufs net.Buffers // view of msgs consumed by one vectored write
}

// queueEntryCost is what one waiting message costs a send queue beyond
// its bytes: its slice header in sendQueue.msgs.
const queueEntryCost = 24

// queueCost returns what b costs a send queue, counted against
// Config.SendQueueBytes.
func queueCost(b []byte) int { return len(b) + queueEntryCost }

// pushResult is the outcome of offering a message to a connection.
type pushResult uint8

const (
	pushQueued    pushResult = iota // on the send queue, a writer runs or is started
	pushClaimed                     // on the send queue; the caller owns the writer and must call flush
	pushFiltered                    // the connection does not accept the op
	pushQueueFull                   // dropped: send queue full
	pushClosed                      // dropped: connection closing
)

// push offers msg to c. With filter, only a connection whose accept set
// holds op takes it. It never blocks and never writes: a message that does
// not fit the queue is dropped (or c closed under SlowClose). When no
// writer runs and the caller offers to write (inline), a plain TCP
// connection is claimed for it (pushClaimed), and it writes with flush
// once it released its locks; otherwise a writer goroutine starts. It is
// safe under a bucket lock (lock order bucket.mu, conn.mu).
func (c *conn) push(msg []byte, op int32, filter, inline bool) pushResult {
	if c.ws == nil {
		msg = msg[tcpOffset(msg):]
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return pushClosed
	}
	if filter && !slices.Contains(c.accepts, op) {
		c.mu.Unlock()
		return pushFiltered
	}
	if c.queueFullLocked(msg) {
		c.mu.Unlock()
		if c.cm.cfg.SlowPolicy == SlowClose {
			c.close(CloseSlow)
		}
		return pushQueueFull
	}
	q := c.queue
	if q == nil {
		q = c.cm.getQueue()
		c.queue = q
	}
	q.msgs = append(q.msgs, msg)
	c.queued += int32(queueCost(msg))
	if len(q.msgs) > 1 {
		c.home().notePeak(int64(c.queued))
	}
	if c.writing {
		c.mu.Unlock()
		return pushQueued
	}
	if inline && c.inline() {
		c.writing = true
		c.mu.Unlock()
		return pushClaimed
	}
	start := c.claimWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeFn()
	}
	return pushQueued
}

// queueFullLocked reports whether msg does not fit c's send queue: the
// queue is not empty and msg would take it past Config.SendQueueBytes, or
// it holds Config.SendQueue messages already (when positive). A message
// always fits an empty queue, so none is too big to be sent. c.mu must be
// held.
func (c *conn) queueFullLocked(msg []byte) bool {
	if c.queue == nil {
		return false
	}
	cfg := &c.cm.cfg
	if int(c.queued)+queueCost(msg) > cfg.SendQueueBytes {
		return true
	}
	return cfg.SendQueue > 0 && len(c.queue.msgs) >= cfg.SendQueue
}

// inline reports whether the goroutine that pushes to c may write to it
// itself (flush): a plain TCP connection, whose socket takes
// non-blocking writes.
func (c *conn) inline() bool { return c.ws == nil && c.raw != nil }

// home returns the bucket that counts c's messages: the one of its key.
// Pushers use it rather than c.bucket, which the reader sets after c is
// registered (c.key is set before).
func (c *conn) home() *bucket { return c.cm.bucketByKey(c.key) }

// claimWriterLocked marks a writer as running and reports whether the
// caller must start it (after releasing c.mu); false when one runs or is
// held (holdWriter). c.mu must be held.
func (c *conn) claimWriterLocked() bool {
	if c.writing {
		return false
	}
	c.writing = true
	c.cm.wg.Add(1) // c's reader holds a count: the counter is not zero
	return true
}

// queueHeartbeatReply hands the reply to a heartbeat with ver and seq to
// the writer goroutine, starting one when none runs. It runs on the reader
// goroutine and keeps its stack shallow: no write, no deadline.
func (c *conn) queueHeartbeatReply(ver int16, seq int32) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	if c.hbWait {
		c.mu.Unlock()
		return c.flushHeartbeatReplies(ver, seq)
	}
	c.hbWait, c.hbVer, c.hbSeq = true, ver, seq
	start := c.claimWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeFn()
	}
	return nil
}

// flushHeartbeatReplies is queueHeartbeatReply for a heartbeat that came
// before the writer took the previous reply (a client sending heartbeats
// back to back): the reader takes the waiting reply back and writes it
// and this one itself. Holding wmu keeps the replies in order: the writer
// holds it from taking a reply until it is written. It is kept out of
// line so that its frame does not weigh on the reader's usual path.
//
//go:noinline
func (c *conn) flushHeartbeatReplies(ver int16, seq int32) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	wait, waitVer, waitSeq := c.hbWait, c.hbVer, c.hbSeq
	c.hbWait = false
	c.mu.Unlock()
	if wait {
		if err := c.writePacketLocked(c.appendHeartbeatReply(c.rbuf[:0], waitVer, waitSeq)); err != nil {
			return err
		}
	}
	return c.writePacketLocked(c.appendHeartbeatReply(c.rbuf[:0], ver, seq))
}

// writeHeartbeatReply writes the reply to a heartbeat with ver and seq
// from a pooled buffer (the reader's rbuf is not the writer's to use, and
// a buffer of its own in every connection would weigh on idle ones). c.wmu
// must be held.
func (c *conn) writeHeartbeatReply(ver int16, seq int32) error {
	buf := c.cm.pool.Get(rbufLen)
	err := c.writePacketLocked(c.appendHeartbeatReply(buf.Bytes()[:0], ver, seq))
	c.cm.pool.Put(buf)
	return err
}

// writeLoop is the writer goroutine: it writes the waiting heartbeat reply
// and batches until there is nothing left, then exits, so an idle
// connection has no writer.
func (c *conn) writeLoop() {
	defer c.cm.wg.Done()
	for {
		c.wmu.Lock()
		q, hb, ver, seq := c.takeWork()
		var err error
		if hb {
			err = c.writeHeartbeatReply(ver, seq)
		}
		c.wmu.Unlock()
		if q == nil && !hb {
			return
		}
		if q != nil && err == nil {
			err = c.writeQueue(q)
		}
		if err != nil {
			c.close(CloseWriteError)
			c.stopQueue()
			c.dropQueue(q) // not known to be written
			return
		}
		c.cm.putQueue(q)
	}
}

// holdWriter keeps pushes on the queue without starting a writer, until
// releaseWriter. The reader calls it before c is registered, so nothing
// runs yet.
func (c *conn) holdWriter() {
	c.mu.Lock()
	c.writing = true
	c.mu.Unlock()
}

// releaseWriter ends holdWriter: it starts a writer for the pushes that
// queued meanwhile, if any.
func (c *conn) releaseWriter() {
	c.mu.Lock()
	start := (c.queue != nil || c.hbWait) && !c.closed
	if start {
		c.cm.wg.Add(1) // c's reader holds a count: the counter is not zero
	} else {
		c.writing = false
	}
	c.mu.Unlock()
	if start {
		go c.writeFn()
	}
}

// takeWork takes the waiting batch and heartbeat reply (hb, with its ver
// and seq), or marks the writer stopped and returns neither when there
// is nothing to write.
func (c *conn) takeWork() (q *sendQueue, hb bool, ver int16, seq int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, hb, ver, seq = c.queue, c.hbWait, c.hbVer, c.hbSeq
	c.queue, c.queued, c.hbWait = nil, 0, false
	if q == nil && !hb {
		c.writing = false
	}
	return q, hb, ver, seq
}

// stopQueue marks c closed for pushes and drops its waiting messages,
// counting them (DropClosed).
func (c *conn) stopQueue() {
	c.mu.Lock()
	q := c.queue
	c.queue, c.queued, c.closed, c.hbWait = nil, 0, true, false
	c.mu.Unlock()
	c.dropQueue(q)
}

// dropQueue counts the messages of q (may be nil), which will not be
// written, as dropped (DropClosed) and returns q to the pool.
func (c *conn) dropQueue(q *sendQueue) {
	if q == nil {
		return
	}
	if n := len(q.msgs); n > 0 {
		c.home().drops[DropClosed].Add(uint64(n))
	}
	c.cm.putQueue(q)
}

// maxWritev is the most messages one vectored write carries. The net
// package keeps each socket's largest iovec array for its lifetime, so the
// cap bounds that memory of a connection that once had a burst (64
// entries: 1 KB); an idle connection that never wrote a batch keeps none.
// 64 writes twice as fast as 16 in BenchmarkRoomFanout.
const maxWritev = 64

// writeQueue writes q's messages with vectored writes of up to maxWritev
// messages: packets on TCP, frames on WebSocket. On plain TCP it tries a
// non-blocking write first, which needs no deadline; what the socket does
// not take at once is written under the write deadline. On success it
// empties q; on failure q keeps the messages not known to be written.
func (c *conn) writeQueue(q *sendQueue) error {
	stamp := queueStamp(q) // read before a write consumes q.msgs
	if c.ws == nil {
		c.wmu.Lock()
		defer c.wmu.Unlock()
		if c.inline() && c.writeRaw(q) {
			c.cm.observeLatency(stamp)
			return nil
		}
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.cm.cfg.WriteTimeout))
	for done := 0; done < len(q.msgs); {
		n := min(len(q.msgs)-done, maxWritev)
		if err := c.writeBatch(q, q.msgs[done:done+n]); err != nil {
			q.msgs = q.msgs[:copy(q.msgs, q.msgs[done:])]
			return err
		}
		done += n
	}
	q.msgs = q.msgs[:0]
	c.cm.observeLatency(stamp)
	return nil
}

// writeRaw writes q's messages to c's socket with non-blocking writes
// and reports whether the socket took them all; otherwise q keeps the
// rest (the first message maybe cut), for a blocking write. c.wmu must be
// held and c.inline() true.
func (c *conn) writeRaw(q *sendQueue) bool {
	w := c.cm.rawWriters.Get().(*rawWriter)
	done := w.write(c, q)
	c.cm.rawWriters.Put(w)
	return done
}

// writeBatch writes msgs, one write or one vectored write: raw on TCP
// (c.wmu held), through the WebSocket conn's write lock on WebSocket.
func (c *conn) writeBatch(q *sendQueue, msgs [][]byte) error {
	if c.ws != nil {
		q.bufs = msgs
		err := c.ws.WritePreparedFrames(&q.bufs)
		q.bufs = nil
		return err
	}
	if len(msgs) == 1 {
		_, err := c.nc.Write(msgs[0])
		return err
	}
	q.bufs = msgs
	_, err := websocket.WriteBuffersTo(c.nc, &q.bufs) // writev on a socket the comet owns too
	q.bufs = nil
	return err
}

// writePacket writes one reply packet b: as is on TCP, as one binary
// frame on WebSocket. It runs on the reader goroutine.
func (c *conn) writePacket(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writePacketLocked(b)
}

// writePacketLocked is writePacket with c.wmu held. On plain TCP it
// first writes without waiting, which for a reply to an idle client (its
// socket buffer empty) is the whole write: no write deadline, so no
// runtime timer armed per reply; what the socket does not take is
// written under the deadline.
func (c *conn) writePacketLocked(b []byte) error {
	if c.inline() {
		w := c.cm.rawWriters.Get().(*rawWriter)
		n := w.writeSmall(c, b)
		c.cm.rawWriters.Put(w)
		if n == len(b) {
			return nil
		}
		b = b[n:]
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.cm.cfg.WriteTimeout))
	if c.ws != nil {
		return c.writeWSPacket(b)
	}
	_, err := c.nc.Write(b)
	return err
}

// writeWSPacket writes b as one binary WebSocket message. A small one
// (every reply of an idle connection) is framed in a pooled buffer and
// written with one write: WriteMessage's vectored write of header and
// payload would leave the socket's poll.FD holding an iovec array (56 B)
// for as long as the connection lives.
func (c *conn) writeWSPacket(b []byte) error {
	if len(b)+websocket.MaxFrameHeaderSize > wsReplyBuf {
		return c.ws.WriteMessage(websocket.OpBinary, b)
	}
	buf := c.cm.pool.Get(wsReplyBuf)
	err := c.ws.WritePreparedFrame(websocket.AppendFrame(buf.Bytes()[:0], websocket.OpBinary, b))
	c.cm.pool.Put(buf)
	return err
}

// wsReplyBuf is the pooled buffer a small WebSocket reply is framed in
// (the pool's smallest class).
const wsReplyBuf = 512
