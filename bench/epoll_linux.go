//go:build linux

package bench

import (
	"runtime"
	"sync"
	"syscall"
	"time"
)

// epollReaders are the epoll workers of a Fleet in ReaderEpoll mode: each
// owns an epoll instance and the raw connections registered with it, and
// reads whichever are ready: no goroutine per connection and no trip
// through the Go scheduler per message.
type epollReaders struct {
	f     *Fleet
	epfds []int
	wg    sync.WaitGroup
	hbWG  sync.WaitGroup
	stop  chan struct{} // closed by close to end the heartbeat loop
}

// newEpollReaders starts n workers (0: GOMAXPROCS) for f.
func newEpollReaders(f *Fleet, n int) (*epollReaders, error) {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	e := &epollReaders{f: f, stop: make(chan struct{})}
	for range n {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			e.close()
			return nil, err
		}
		e.epfds = append(e.epfds, fd)
	}
	for _, epfd := range e.epfds {
		e.wg.Add(1)
		go e.run(epfd)
	}
	if f.cfg.Heartbeat > 0 {
		e.hbWG.Add(1)
		go e.heartbeats(f.cfg.Heartbeat)
	}
	return e, nil
}

// add registers member i's raw connection with a worker.
func (e *epollReaders) add(i int, rc *rawConn) error {
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(i)}
	return syscall.EpollCtl(e.epfds[i%len(e.epfds)], syscall.EPOLL_CTL_ADD, rc.fd, &ev)
}

// run is one worker: it reads the ready connections of epfd until the
// fleet closes.
func (e *epollReaders) run(epfd int) {
	defer e.wg.Done()
	events := make([]syscall.EpollEvent, 256)
	for !e.f.closing.Load() {
		n, err := syscall.EpollWait(epfd, events, epollWait)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return
		}
		for _, ev := range events[:n] {
			if m := e.f.members[ev.Fd].Load(); m != nil {
				e.read(epfd, m)
			}
		}
	}
}

// read reads what m's connection has (one read: epoll is level-triggered
// and reports the rest) and delivers every complete packet, all stamped
// with the time the read returned.
func (e *epollReaders) read(epfd int, m *member) {
	rc := m.raw
	if rc.dead.Load() {
		return
	}
	rc.grow(0)
	n, err := syscall.Read(rc.fd, rc.buf[rc.n:])
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return
	case err != nil || n == 0:
		e.drop(epfd, rc)
		return
	}
	now := time.Now()
	rc.n += n
	off := 0
	for {
		unit, op, used, need, err := nextUnit(rc.buf[off:rc.n], rc.ws)
		if err == nil && used > 0 {
			err = unitPackets(unit, op, func(op int32, body []byte) { e.f.deliver(m, op, body, now) })
		}
		if err != nil {
			e.drop(epfd, rc)
			return
		}
		if used == 0 {
			rc.n = copy(rc.buf, rc.buf[off:rc.n])
			rc.grow(need)
			return
		}
		off += used
	}
}

// drop takes a failed or ended connection out of its epoll set; its
// descriptor stays open until Fleet.Close.
func (e *epollReaders) drop(epfd int, rc *rawConn) {
	if rc.dead.Swap(true) {
		return
	}
	_ = syscall.EpollCtl(epfd, syscall.EPOLL_CTL_DEL, rc.fd, nil)
	if !e.f.closing.Load() {
		e.f.lost.Add(1)
	}
}

// heartbeats sends every live raw connection a heartbeat each interval,
// spread over 16 slots as client.Heartbeater does. A write that would
// block is skipped (the next one comes an interval later).
func (e *epollReaders) heartbeats(interval time.Duration) {
	defer e.hbWG.Done()
	const slots = 16
	t := time.NewTicker(max(interval/slots, time.Millisecond))
	defer t.Stop()
	var pkts [2][]byte // TCP and WebSocket heartbeat
	for slot := 0; ; slot = (slot + 1) % slots {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		for i := slot; i < len(e.f.members); i += slots {
			m := e.f.members[i].Load()
			if m == nil || m.raw == nil || m.raw.dead.Load() {
				continue
			}
			k := 0
			if m.raw.ws {
				k = 1
			}
			if pkts[k] == nil {
				pkts[k] = m.raw.heartbeatPacket()
			}
			_, _ = syscall.Write(m.raw.fd, pkts[k])
		}
	}
}

// close stops the workers and the heartbeats and closes every descriptor.
// The fleet must be marked closing first.
func (e *epollReaders) close() {
	close(e.stop)
	e.hbWG.Wait()
	e.wg.Wait()
	for _, fd := range e.epfds {
		syscall.Close(fd)
	}
	for i := range e.f.members {
		if m := e.f.members[i].Load(); m != nil && m.raw != nil {
			syscall.Close(m.raw.fd)
		}
	}
}

// dialEpoll opens member i as a raw connection to addr and registers it.
func (f *Fleet) dialEpoll(i int, addr, local string) (*member, error) {
	rc, err := dialRaw(&f.cfg, addr, f.token(i), local)
	if err != nil {
		return nil, err
	}
	m := &member{raw: rc, idx: i}
	f.members[i].Store(m)
	if err := f.epoll.add(i, rc); err != nil {
		return nil, err
	}
	return m, nil
}

// newEpoll starts the epoll workers.
func (f *Fleet) newEpoll() error {
	e, err := newEpollReaders(f, f.cfg.EpollWorkers)
	if err != nil {
		return err
	}
	f.epoll = e
	return nil
}
