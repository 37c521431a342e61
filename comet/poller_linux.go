//go:build linux

package comet

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"syscall"
)

// pollBatch is the number of events one epoll_wait returns at most.
const pollBatch = 256

// stopID is the event data of a poller's stop pipe; connection ids are
// never 0 (they start at the comet's start time in nanoseconds).
const stopID = 0

// errPollerStopped is returned by arm once the poller stopped.
var errPollerStopped = errors.New("comet: poller stopped")

// poller is one epoll set holding parked connections (see conn.park) and
// the goroutine waiting on it. It also serves the waits of the sockets
// the comet owns (sockConn.wait) and of their listeners (acceptor): each
// descriptor has one one-shot registration, armed for what waits on it
// now (interestLocked). The event data of a connection is its id, which
// the poller maps back to the connection: an event outliving its
// connection (the descriptor closed and reused) finds no entry, or an
// entry with nothing waiting, and is dropped.
type poller struct {
	epfd int
	stop [2]int // pipe; a byte written to stop[1] ends run

	// mu guards conns and closed, and of the registered connections
	// pollAdded and their sockets' waits (sockConn.rw, ww).
	mu     sync.Mutex
	conns  map[uint64]*conn // registered connections, by id
	closed bool             // run ended; epfd is closed

	// armMu serializes control, so that one func value, armFn, arms
	// every connection of the poller inside its RawConn.Control: a
	// connection keeps no closure of its own for it. It guards armc.
	armMu sync.Mutex
	armc  *conn         // the connection control is arming
	armFn func(uintptr) // p.armCurrent, made once so parking does not allocate
}

// newPoller returns a poller with its epoll set and stop pipe.
func newPoller() (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("comet: epoll_create1: %w", err)
	}
	p := &poller{epfd: epfd, conns: make(map[uint64]*conn)}
	p.armFn = p.armCurrent
	if err := syscall.Pipe2(p.stop[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		_ = syscall.Close(epfd)
		return nil, fmt.Errorf("comet: pipe2: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN}
	setEventID(&ev, stopID)
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p.stop[0], &ev); err != nil {
		p.closeFDs()
		return nil, fmt.Errorf("comet: epoll_ctl of the stop pipe: %w", err)
	}
	return p, nil
}

// setEventID stores id as the event's data (the 64 bits of epoll_data).
func setEventID(ev *syscall.EpollEvent, id uint64) {
	ev.Fd = int32(uint32(id))
	ev.Pad = int32(uint32(id >> 32))
}

// eventID returns the id stored by setEventID.
func eventID(ev *syscall.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// run waits for events and wakes the connections they name, until the
// stop pipe is written or epoll_wait fails. It closes the poller's
// descriptors when it returns.
func (p *poller) run() error {
	defer p.shut()
	events := make([]syscall.EpollEvent, pollBatch)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("comet: epoll_wait: %w", err)
		}
		for i := range events[:n] {
			id := eventID(&events[i])
			if id == stopID {
				return nil
			}
			p.wake(id, events[i].Events)
		}
		// The readers just started sit in this P's run queue; let them
		// run before epoll_wait blocks the thread, or they would wait
		// until the runtime takes the P from the blocked thread.
		runtime.Gosched()
	}
}

// Events that end a wait for reading and for writing; an error or hang-up
// ends both (the next system call reports it).
const (
	readEvents  = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLERR | syscall.EPOLLHUP
	writeEvents = syscall.EPOLLOUT | syscall.EPOLLERR | syscall.EPOLLHUP
)

// wake handles events of the connection id: it ends the waits of its
// socket they serve (sockConn.wait), or starts a reader for it if it is
// parked and readable. The registration is one-shot, so what still waits
// afterwards is armed again.
func (p *poller) wake(id uint64, events uint32) {
	var rw, ww *sockWait
	start := false
	p.mu.Lock()
	c := p.conns[id]
	if c == nil {
		p.mu.Unlock()
		return
	}
	s := c.sock()
	if s != nil && events&readEvents != 0 {
		rw, s.rw = s.rw, nil
	}
	if s != nil && events&writeEvents != 0 {
		ww, s.ww = s.ww, nil
	}
	if rw == nil && events&readEvents != 0 {
		start = c.rstate.CompareAndSwap(readerParked, readerActive)
	}
	var orphans [2]*sockWait
	if s != nil && p.rearmLocked(c, s) != nil {
		// Nothing would wake what still waits: wake it now; its next
		// arm reports the error.
		orphans[0], orphans[1], s.rw, s.ww = s.rw, s.ww, nil, nil
		start = start || c.rstate.CompareAndSwap(readerParked, readerActive)
	}
	p.mu.Unlock()
	rw.wake()
	ww.wake()
	orphans[0].wake()
	orphans[1].wake()
	if start {
		go c.readFn()
	}
}

// stopWait makes run return. Connections still registered are not woken:
// the comet stops pollers only after every connection finished.
func (p *poller) stopWait() {
	_, _ = syscall.Write(p.stop[1], []byte{0})
}

// shut marks the poller closed and closes its descriptors.
func (p *poller) shut() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.closeFDs()
}

// closeFDs closes the epoll set and the stop pipe.
func (p *poller) closeFDs() {
	_ = syscall.Close(p.epfd)
	_ = syscall.Close(p.stop[0])
	_ = syscall.Close(p.stop[1])
}

// control arms c (see conn.park) inside its RawConn.Control, which keeps
// the descriptor from being closed meanwhile, and returns Control's
// error (c's descriptor is closing).
func (p *poller) control(c *conn) error {
	p.armMu.Lock()
	defer p.armMu.Unlock()
	p.armc = c
	err := c.raw.Control(p.armFn)
	p.armc = nil
	return err
}

// armCurrent registers or re-arms fd, the descriptor of p.armc, in p; it
// runs inside RawConn.Control with p.armMu held. Once the registration is
// armed a reader may start at once, so on success nothing of the
// connection is touched after it; when arming fails (the epoll set is
// full or stopped) a reader goroutine is started instead.
func (p *poller) armCurrent(fd uintptr) {
	c := p.armc
	if err := p.arm(c, int(fd)); err != nil {
		c.unpark()
	}
}

// arm registers c's descriptor fd (first call) or re-arms its one-shot
// registration for what c waits for now (interest). It runs inside
// RawConn.Control, which keeps fd open until it returns.
func (p *poller) arm(c *conn, fd int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errPollerStopped
	}
	return p.armFDLocked(c, fd, p.interestLocked(c))
}

// armLocked is arm for a connection whose socket the comet owns, under
// p.mu: it takes the descriptor itself.
func (p *poller) armLocked(c *conn) error {
	if p.closed {
		return errPollerStopped
	}
	return p.armSockLocked(c, c.sock(), p.interestLocked(c))
}

// rearmLocked arms c's registration again after an event if anything
// still waits on it: a parked reader (which the event did not wake), a
// read or a write of its socket. A closed socket needs none: Close wakes
// its waits. p.mu must be held.
func (p *poller) rearmLocked(c *conn, s *sockConn) error {
	events := p.interestLocked(c)
	if events&(syscall.EPOLLIN|syscall.EPOLLOUT) == 0 {
		return nil
	}
	if err := p.armSockLocked(c, s, events); err != net.ErrClosed {
		return err
	}
	return nil
}

// armSockLocked arms c's registration for events with a reference on
// the descriptor of s, c's socket; net.ErrClosed when s is closed. p.mu
// must be held.
func (p *poller) armSockLocked(c *conn, s *sockConn, events uint32) error {
	if !s.acquire() {
		return net.ErrClosed
	}
	err := p.armFDLocked(c, int(s.fd), events)
	s.release()
	return err
}

// endWait ends a wait whose wake-up did not come in time: it takes w out
// of slot, or, when the poller or a closer took it first, receives the
// wake-up on its way so that w can be used again. p.mu must not be held.
func (p *poller) endWait(slot **sockWait, w *sockWait) {
	p.mu.Lock()
	taken := *slot != w
	if !taken {
		*slot = nil
	}
	p.mu.Unlock()
	if taken {
		<-w.ch
	}
}

// interestLocked returns the events c's registration must wait for now:
// readability while c is parked or a read of its socket waits,
// writability while a write waits. p.mu must be held.
func (p *poller) interestLocked(c *conn) uint32 {
	ev := uint32(syscall.EPOLLONESHOT)
	if c.rstate.Load() == readerParked {
		ev |= syscall.EPOLLIN | syscall.EPOLLRDHUP
	}
	if s := c.sock(); s != nil {
		if s.rw != nil {
			ev |= syscall.EPOLLIN | syscall.EPOLLRDHUP
		}
		if s.ww != nil {
			ev |= syscall.EPOLLOUT
		}
	}
	return ev
}

// armFDLocked adds fd to the epoll set with events (first call) or
// modifies its registration. p.mu must be held.
func (p *poller) armFDLocked(c *conn, fd int, events uint32) error {
	ev := syscall.EpollEvent{Events: events}
	setEventID(&ev, c.id)
	if c.pollAdded {
		return syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, fd, &ev)
	}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return err
	}
	c.pollAdded = true
	p.conns[c.id] = c
	return nil
}

// forget drops c from the poller once it finished. Its descriptor is
// closed by then, which removed it from the epoll set.
func (p *poller) forget(c *conn) {
	p.mu.Lock()
	delete(p.conns, c.id)
	p.mu.Unlock()
}

// pollers is the set of pollers of a comet; connections are spread over
// them by id.
type pollers struct {
	ps []*poller
}

// newPollers returns n pollers, or nil when n < 1.
func newPollers(n int) (*pollers, error) {
	if n < 1 {
		return nil, nil
	}
	s := &pollers{}
	for range n {
		p, err := newPoller()
		if err != nil {
			s.closeAll()
			return nil, err
		}
		s.ps = append(s.ps, p)
	}
	return s, nil
}

// closeAll closes the descriptors of pollers that never ran.
func (s *pollers) closeAll() {
	for _, p := range s.ps {
		p.closeFDs()
	}
}

// of returns the poller of connection id.
func (s *pollers) of(id uint64) *poller { return s.ps[id%uint64(len(s.ps))] }
