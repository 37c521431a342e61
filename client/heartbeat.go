package client

import (
	"math"
	"sync"
	"time"
)

// startHeartbeat arms the Config.Heartbeat timer: every d it sends a
// heartbeat and re-arms, until Close stops it or a heartbeat fails. The
// re-arm and Close's stop hold c.hbMu, and the re-arm happens only while
// c.closed is unset, so once Close returns the timer is stopped for good.
func (c *Conn) startHeartbeat(d time.Duration) {
	t := time.AfterFunc(math.MaxInt64, func() {
		if c.Heartbeat() != nil {
			return
		}
		c.hbMu.Lock()
		defer c.hbMu.Unlock()
		if !c.closed.Load() {
			c.hbTimer.Load().Reset(d)
		}
	})
	c.hbTimer.Store(t)
	t.Reset(d)
}

// heartbeatSlots is how many groups a Heartbeater spreads its connections
// over: one group is sent each interval/heartbeatSlots, so that a large
// population does not send all its heartbeats at once.
const heartbeatSlots = 16

// Heartbeater sends heartbeats for many connections from one goroutine,
// for programs (load generators) that hold so many connections that one
// timer each is wasteful. Connections are spread over 16 slots; every
// interval/16 the connections of one slot get a heartbeat, so each
// connection gets one per interval. A connection whose heartbeat fails
// (closed, broken) is dropped.
//
// Writes happen outside the Heartbeater's lock but one after another, so a
// connection whose write blocks delays the others by up to its
// Config.WriteTimeout. Methods are safe for concurrent use.
type Heartbeater struct {
	tick time.Duration // time between two slots

	// mu guards slots, next and closed.
	mu     sync.Mutex
	slots  [heartbeatSlots]map[*Conn]struct{}
	next   int  // slot the next Add uses (round robin)
	closed bool // set by Close; Add is then refused

	stop chan struct{} // closed by Close to end run
	done chan struct{} // closed when run returns
}

// NewHeartbeater starts a Heartbeater that sends each added connection a
// heartbeat every interval (at least 16 ms: smaller values are raised).
// Call Close to stop its goroutine.
func NewHeartbeater(interval time.Duration) *Heartbeater {
	tick := max(interval/heartbeatSlots, time.Millisecond)
	h := &Heartbeater{tick: tick, stop: make(chan struct{}), done: make(chan struct{})}
	for i := range h.slots {
		h.slots[i] = make(map[*Conn]struct{})
	}
	go h.run()
	return h
}

// Add starts heartbeats for c; the first comes within one interval. It
// returns false, and does nothing, after Close.
func (h *Heartbeater) Add(c *Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.slots[h.next][c] = struct{}{}
	h.next = (h.next + 1) % heartbeatSlots
	return true
}

// Remove stops heartbeats for c. Closed connections are dropped on their
// next failed heartbeat without it; Remove only makes it immediate.
func (h *Heartbeater) Remove(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, slot := range h.slots {
		delete(slot, c)
	}
}

// Len returns the number of connections receiving heartbeats.
func (h *Heartbeater) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, slot := range h.slots {
		n += len(slot)
	}
	return n
}

// Close stops the Heartbeater and waits for its goroutine to end. It does
// not close the connections. Close is idempotent.
func (h *Heartbeater) Close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.stop)
	}
	h.mu.Unlock()
	<-h.done
}

// run sends the heartbeats of one slot per tick until Close.
func (h *Heartbeater) run() {
	defer close(h.done)
	t := time.NewTicker(h.tick)
	defer t.Stop()
	var batch []*Conn // reused snapshot of one slot
	for slot := 0; ; slot = (slot + 1) % heartbeatSlots {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		batch = h.snapshot(slot, batch[:0])
		for i, c := range batch {
			if c.Heartbeat() != nil {
				h.Remove(c)
			}
			batch[i] = nil
		}
	}
}

// snapshot appends the connections of slot to batch.
func (h *Heartbeater) snapshot(slot int, batch []*Conn) []*Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.slots[slot] {
		batch = append(batch, c)
	}
	return batch
}
