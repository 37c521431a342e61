package comet

import "time"

// Reader states of a connection (conn.rstate).
const (
	// readerActive: a goroutine owns the read side (the handshake
	// goroutine, a reader goroutine, or one started by unpark).
	readerActive uint32 = iota
	// readerParked: the connection waits in its poller's epoll set and
	// no goroutine reads it.
	readerParked
)

// startReading starts the read side of c once its handshake succeeded,
// on the handshake goroutine: it parks c in its poller when c has one,
// else starts the reader goroutine. The read side holds one count of
// cm.wg, taken here, until the connection is torn down.
func (c *conn) startReading() {
	c.cm.wg.Add(1)
	if c.poll == nil {
		go c.readLoop()
		return
	}
	if c.ws != nil && c.ws.Buffered() > 0 {
		go c.readFn() // the client sent more right behind the upgrade
		return
	}
	if !c.park() {
		go c.readFn()
	}
}

// readParked is the goroutine unpark starts: it reads and handles
// packets while bytes are at hand, then parks c again and ends, or tears
// c down when reading fails. A packet that arrives in pieces is waited
// for with a blocking read, as on the reader goroutine: the wait is
// bounded by the heartbeat deadline, which closes the socket.
func (c *conn) readParked() {
	for {
		if err := c.readOne(); err != nil {
			c.finish(err)
			c.cm.wg.Done()
			return
		}
		if c.ws != nil && c.ws.Buffered() > 0 {
			continue // the next frame is read ahead already: epoll would not report it
		}
		if c.park() {
			return
		}
	}
}

// readOne reads one packet (one WebSocket data message) and handles it.
func (c *conn) readOne() error {
	if c.ws != nil {
		return c.serveMessage(c.ws.ReadMessage(c.rbuf[:0]))
	}
	if err := c.waitPacket(); err != nil {
		return err
	}
	return c.serveOne()
}

// park hands the read side of c to its poller. It reports false when the
// caller still owns the read side and must go on reading (the descriptor
// is closing, so the next read fails and tears c down); true means the
// poller, or a goroutine started by unpark, owns it now, and the caller
// must not touch c's reader fields any more.
//
// The state is set before arming, so an event can only find c parked;
// close closes the socket before it unparks, so a park that comes after
// an unpark that found nothing to take fails to arm and keeps the read
// side.
func (c *conn) park() bool {
	c.rstate.Store(readerParked)
	if c.poll.control(c) == nil {
		return true // armed, or the arm failed and started a reader
	}
	return !c.rstate.CompareAndSwap(readerParked, readerActive)
}

// unpark starts a reader goroutine for c if c is parked. It never blocks:
// the poller calls it on an event, close after closing the socket (the
// epoll set drops a closed descriptor without an event).
func (c *conn) unpark() {
	if c.rstate.CompareAndSwap(readerParked, readerActive) {
		go c.readFn()
	}
}

// sockWait is one goroutine's wait for its socket (sockConn.wait); the
// comet pools them (Comet.sockWaits).
type sockWait struct {
	ch chan struct{} // takes the one wake-up of a wait
	t  *time.Timer   // the deadline of a wait, stopped between waits
}

// newSockWait returns a sockWait with its timer stopped.
func newSockWait() *sockWait {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &sockWait{ch: make(chan struct{}, 1), t: t}
}

// wake ends w's wait; nil-safe. The caller took w out of its slot under
// the poller's lock, so it is the only one to wake it.
func (w *sockWait) wake() {
	if w != nil {
		w.ch <- struct{}{}
	}
}
