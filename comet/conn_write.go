package comet

import (
	"net"
	"slices"
	"time"

	"github.com/goimx/goim/websocket"
)

// sendQueue is a batch of messages waiting for one connection's writer.
// The comet pools them: a connection holds one only while messages wait,
// and its writer takes the whole batch at once.
type sendQueue struct {
	msgs [][]byte    // shared messages (see message.go), at most Config.SendQueue
	bufs net.Buffers // view of msgs consumed by one vectored write
}

// pushResult is the outcome of offering a message to a connection.
type pushResult uint8

const (
	pushQueued    pushResult = iota // on the send queue
	pushFiltered                    // the connection does not accept the op
	pushQueueFull                   // dropped: send queue full
	pushClosed                      // dropped: connection closing
)

// push offers msg to c. With filter, only a connection whose accept set
// holds op takes it. It never blocks: a full queue drops the message (or
// closes c under SlowClose), and a writer goroutine is started when none
// runs. It is safe under a bucket lock (lock order bucket.mu, conn.mu).
func (c *conn) push(msg []byte, op int32, filter bool) pushResult {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return pushClosed
	}
	if filter && !slices.Contains(c.accepts, op) {
		c.mu.Unlock()
		return pushFiltered
	}
	q := c.queue
	if q == nil {
		q = c.cm.getQueue()
		c.queue = q
	}
	if len(q.msgs) >= cap(q.msgs) {
		c.mu.Unlock()
		if c.cm.cfg.SlowPolicy == SlowClose {
			c.close(CloseSlow)
		}
		return pushQueueFull
	}
	q.msgs = append(q.msgs, msg)
	start := !c.writing
	if start {
		c.writing = true
		c.cm.wg.Add(1) // c's reader holds a count: the counter is not zero
	}
	c.mu.Unlock()
	if start {
		go c.writeFn()
	}
	return pushQueued
}

// writeLoop is the writer goroutine: it writes batches until the queue is
// empty, then exits, so an idle connection has no writer.
func (c *conn) writeLoop() {
	defer c.cm.wg.Done()
	for {
		q := c.takeQueue()
		if q == nil {
			return
		}
		err := c.writeQueue(q)
		c.cm.putQueue(q)
		if err != nil {
			c.close(CloseWriteError)
			c.stopQueue()
			return
		}
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
	start := c.queue != nil && !c.closed
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

// takeQueue takes the waiting batch, or marks the writer stopped and
// returns nil when there is none.
func (c *conn) takeQueue() *sendQueue {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	if q == nil {
		c.writing = false
	}
	return q
}

// stopQueue marks c closed for pushes and releases its waiting batch.
func (c *conn) stopQueue() {
	c.mu.Lock()
	q := c.queue
	c.queue, c.closed = nil, true
	c.mu.Unlock()
	if q != nil {
		clear(q.msgs)
		q.msgs = q.msgs[:0]
		c.cm.putQueue(q)
	}
}

// maxWritev is the most messages one vectored write carries. The net
// package keeps each socket's largest iovec array for its lifetime, so the
// cap bounds that memory of a connection that once had a burst (64
// entries: 1 KB); an idle connection that never wrote a batch keeps none.
// 64 writes twice as fast as 16 in BenchmarkRoomFanout.
const maxWritev = 64

// writeQueue writes q's messages with vectored writes of up to maxWritev
// messages: their packets on TCP, their frames on WebSocket. It empties q.
func (c *conn) writeQueue(q *sendQueue) error {
	defer func() {
		clear(q.msgs)
		q.msgs = q.msgs[:0]
	}()
	deadline := time.Now().Add(c.cm.cfg.WriteTimeout)
	if c.ws == nil {
		for i, m := range q.msgs {
			q.msgs[i] = m[tcpOffset(m):]
		}
		c.wmu.Lock()
		defer c.wmu.Unlock()
	}
	_ = c.nc.SetWriteDeadline(deadline)
	for msgs := q.msgs; len(msgs) > 0; {
		n := min(len(msgs), maxWritev)
		if err := c.writeBatch(q, msgs[:n]); err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
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
	_, err := q.bufs.WriteTo(c.nc)
	q.bufs = nil
	return err
}

// writePacket writes one reply packet b: as is on TCP, as one binary
// frame on WebSocket. It runs on the reader goroutine.
func (c *conn) writePacket(b []byte) error {
	deadline := time.Now().Add(c.cm.cfg.WriteTimeout)
	if c.ws != nil {
		_ = c.nc.SetWriteDeadline(deadline)
		return c.ws.WriteMessage(websocket.OpBinary, b)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(deadline)
	_, err := c.nc.Write(b)
	return err
}
