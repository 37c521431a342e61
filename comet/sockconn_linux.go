//go:build linux

package comet

import (
	"io"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// sockConn is a plain TCP client connection whose descriptor the comet
// owns: accepted with accept4 (acceptor), read and
// written with system calls, and waited on (a read or a write the socket
// cannot take now) through the connection's poller, never the runtime's.
// It stands in for a net.TCPConn where connections park in pollers: it
// saves the runtime's poll descriptor (512 B outside the heap, kept by
// the runtime for good), the netFD (128 B) and both addresses (160 B),
// about 0.8 KB of every idle connection, for 80 B of its own.
//
// The descriptor is closed once Close was called and no system call is
// using it (state), so no call ever reaches a reused descriptor number.
type sockConn struct {
	// state is sockClosed | refs*sockRef: refs counts the system calls
	// using fd right now.
	state atomic.Uint32
	fd    int32

	// rdl and wdl are the read and write deadlines, unix nanoseconds; 0
	// means none.
	rdl, wdl atomic.Int64

	owner  *conn          // the connection, whose poller and id the waits use; set by newConn
	remote netip.AddrPort // the peer's address

	// rw and ww are guarded by owner.poll.mu: the waits for the socket to
	// become readable and writable, nil when none waits.
	rw, ww *sockWait
}

// Bits of sockConn.state.
const (
	sockClosed uint32 = 1 // Close was called
	sockRef    uint32 = 2 // one system call using the descriptor
)

// socketAccepter returns what the accept loop of ln registers for Close
// and Shutdown (ln itself, or an acceptor wrapping it), its accept
// function and what to call when the loop ends. The accept function
// hands out sockConns when ln is a plain TCP listener and cm parks
// connections in pollers (unless Config.NetConns); else it is ln.Accept.
func (cm *Comet) socketAccepter(ln net.Listener) (net.Listener, func() (net.Conn, error), func()) {
	tl, ok := ln.(*net.TCPListener)
	if !ok || cm.polls == nil || cm.cfg.NetConns {
		return ln, ln.Accept, func() {}
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return ln, ln.Accept, func() {}
	}
	a := newAcceptor(cm, tl, rc)
	return a, a.next, a.stop
}

// acceptRecheck bounds how long an accept loop waits without looking
// whether its listener was closed: Close through the comet (an acceptor's
// Close) wakes it at once, a Close of the net.TCPListener itself within
// this time.
const acceptRecheck = time.Second

// acceptor takes connections straight from a plain TCP listener's
// descriptor with accept4, so they never enter the net package (no poll
// descriptor, netFD or addresses made and dropped per connection, no
// duplicate and extra close). A listener's RawConn cannot wait for
// readability, so the acceptor waits through a poller of the comet,
// where a pseudo connection (lc) stands for the listener: accept4 and
// the arming of that registration run inside RawConn.Control, which
// keeps the descriptor open meanwhile.
type acceptor struct {
	*net.TCPListener                 // the listener; Close is the acceptor's
	rc               syscall.RawConn // the listener's (Control only)
	lc               *conn           // stands for the listener in its poller
	ls               *sockConn       // lc's socket, whose read-wait slot holds w; its own fd is never used
	w                *sockWait       // the accept loop's wait
	fn               func(uintptr)   // a.accept, made once

	// Set by accept: the accepted descriptor and peer, or the error.
	nfd int
	sa  syscall.Sockaddr
	err error
}

// newAcceptor returns the acceptor of tl, whose RawConn is rc.
func newAcceptor(cm *Comet, tl *net.TCPListener, rc syscall.RawConn) *acceptor {
	lc := &conn{cm: cm, id: cm.connID.Add(1)}
	lc.poll = cm.polls.of(lc.id)
	ls := &sockConn{fd: -1, owner: lc}
	ls.state.Store(sockClosed) // no system call on fd -1
	lc.nc = ls
	a := &acceptor{TCPListener: tl, rc: rc, lc: lc, ls: ls, w: newSockWait()}
	a.fn = a.accept
	return a
}

// next waits for and returns the next connection of the listener.
func (a *acceptor) next() (net.Conn, error) {
	for {
		a.nfd, a.sa, a.err = -1, nil, nil
		if err := a.rc.Control(a.fn); err != nil {
			return nil, err // the listener closed
		}
		switch a.err {
		case nil:
			s, err := newSockConn(a.nfd, a.sa)
			a.sa = nil
			return s, err
		case syscall.EAGAIN:
			a.await()
		default:
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: a.Addr(), Err: os.NewSyscallError("accept4", a.err)}
		}
	}
}

// accept is the RawConn.Control callback: one accept4 on the listener's
// descriptor fd; when none is waiting it arms the poller registration
// (EAGAIN then tells next to wait).
func (a *acceptor) accept(fd uintptr) {
	for {
		nfd, sa, err := syscall.Accept4(int(fd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		switch err {
		case syscall.EINTR, syscall.ECONNABORTED:
			continue // as the net package: the peer gave up before we took it
		case syscall.EAGAIN:
			if aerr := a.arm(int(fd)); aerr != nil {
				err = aerr
			}
		}
		a.nfd, a.sa, a.err = nfd, sa, err
		return
	}
}

// arm puts the accept loop's wait in place and arms the listener's
// one-shot registration for readability.
func (a *acceptor) arm(fd int) error {
	p := a.lc.poll
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errPollerStopped
	}
	a.ls.rw = a.w
	if err := p.armFDLocked(a.lc, fd, syscall.EPOLLIN|syscall.EPOLLONESHOT); err != nil {
		a.ls.rw = nil
		return err
	}
	return nil
}

// await waits for the registration's event, a Close, or acceptRecheck.
func (a *acceptor) await() {
	if !awaitWake(a.w, time.Now().Add(acceptRecheck).UnixNano()) {
		a.lc.poll.endWait(&a.ls.rw, a.w)
	}
}

// Close closes the listener and wakes the accept loop, which then finds
// it closed.
func (a *acceptor) Close() error {
	err := a.TCPListener.Close()
	a.ls.wakeWaits(true, false)
	return err
}

// stop drops the listener's registration from its poller once the
// accept loop ended (the closed descriptor left the epoll set).
func (a *acceptor) stop() { a.lc.poll.forget(a.lc) }

// TCP keep-alive of accepted sockets: the net package's defaults for a
// listener (15 s idle, 15 s between probes, 9 probes).
const (
	keepAliveIdle     = 15
	keepAliveInterval = 15
	keepAliveCount    = 9
)

// newSockConn returns the sockConn of the accepted descriptor fd, set up
// as the net package sets up an accepted connection (no Nagle delay,
// keep-alive probes); it closes fd when that fails.
func newSockConn(fd int, sa syscall.Sockaddr) (*sockConn, error) {
	opts := [...]struct{ level, opt, v int }{
		{syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1},
		{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, keepAliveIdle},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, keepAliveInterval},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, keepAliveCount},
	}
	for _, o := range opts {
		if err := syscall.SetsockoptInt(fd, o.level, o.opt, o.v); err != nil {
			_ = syscall.Close(fd)
			return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("setsockopt", err)}
		}
	}
	return &sockConn{fd: int32(fd), remote: addrPortOf(sa)}, nil
}

// addrPortOf returns sa as an address and port (zero for other kinds).
func addrPortOf(sa syscall.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// acquire takes a reference on the descriptor for one system call; false
// means Close was called.
func (s *sockConn) acquire() bool {
	for {
		st := s.state.Load()
		if st&sockClosed != 0 {
			return false
		}
		if s.state.CompareAndSwap(st, st+sockRef) {
			return true
		}
	}
}

// release drops a reference taken by acquire, closing the descriptor
// when it was the last one after Close.
func (s *sockConn) release() {
	if s.state.Add(^(sockRef - 1)) == sockClosed { // st - sockRef
		_ = syscall.Close(int(s.fd))
	}
}

// Close closes the socket: at once when no system call uses it, else
// when the last one returns. Waiting reads and writes return
// net.ErrClosed.
func (s *sockConn) Close() error {
	for {
		st := s.state.Load()
		if st&sockClosed != 0 {
			return s.opError("close", net.ErrClosed)
		}
		if s.state.CompareAndSwap(st, st|sockClosed) {
			if st == 0 {
				_ = syscall.Close(int(s.fd))
			}
			break
		}
	}
	s.wakeWaits(true, true)
	return nil
}

// wakeWaits ends the waits named, which then look again at the socket,
// its deadlines and whether it closed.
func (s *sockConn) wakeWaits(read, write bool) {
	if s.owner == nil || s.owner.poll == nil {
		return
	}
	p := s.owner.poll
	var rw, ww *sockWait
	p.mu.Lock()
	if read {
		rw, s.rw = s.rw, nil
	}
	if write {
		ww, s.ww = s.ww, nil
	}
	p.mu.Unlock()
	rw.wake()
	ww.wake()
}

// Read reads into b, waiting for bytes until the read deadline.
func (s *sockConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		if passed(s.rdl.Load()) {
			return 0, s.opError("read", os.ErrDeadlineExceeded)
		}
		if !s.acquire() {
			return 0, s.opError("read", net.ErrClosed)
		}
		n, err := syscall.Read(int(s.fd), b)
		s.release()
		switch {
		case err == nil && n > 0:
			return n, nil
		case err == nil:
			return 0, io.EOF
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			if err := s.wait(false); err != nil {
				return 0, err
			}
		default:
			return 0, s.opError("read", os.NewSyscallError("read", err))
		}
	}
}

// Write writes all of b, waiting for the socket until the write deadline.
func (s *sockConn) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		if passed(s.wdl.Load()) {
			return done, s.opError("write", os.ErrDeadlineExceeded)
		}
		if !s.acquire() {
			return done, s.opError("write", net.ErrClosed)
		}
		n, err := syscall.Write(int(s.fd), b[done:])
		s.release()
		switch {
		case err == nil:
			done += n
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			if err := s.wait(true); err != nil {
				return done, err
			}
		default:
			return done, s.opError("write", os.NewSyscallError("write", err))
		}
	}
	return done, nil
}

// WriteBuffers writes all of msgs with vectored writes (at most
// maxWritev messages each), waiting for the socket until the write
// deadline, and returns the bytes written. msgs is consumed as it is
// written (the first message maybe cut). It implements
// websocket.BuffersWriter.
func (s *sockConn) WriteBuffers(msgs *net.Buffers) (int64, error) {
	w := s.owner.cm.rawWriters.Get().(*rawWriter)
	defer s.owner.cm.rawWriters.Put(w)
	var done int64
	for len(*msgs) > 0 {
		if passed(s.wdl.Load()) {
			return done, s.opError("write", os.ErrDeadlineExceeded)
		}
		if !s.acquire() {
			return done, s.opError("write", net.ErrClosed)
		}
		w.msgs, w.n, w.err = (*msgs)[:min(len(*msgs), maxWritev)], 0, 0
		w.writev(uintptr(s.fd))
		w.msgs = nil
		s.release()
		switch w.err {
		case 0:
			done += int64(w.n)
			*msgs = consume(*msgs, w.n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			if err := s.wait(true); err != nil {
				return done, err
			}
		default:
			return done, s.opError("write", os.NewSyscallError("writev", w.err))
		}
	}
	return done, nil
}

// passed reports whether the deadline dl (unix nanoseconds, 0 for none)
// has passed.
func passed(dl int64) bool { return dl != 0 && time.Now().UnixNano() >= dl }

// wait waits until the socket may be readable (writable when write),
// the deadline of that direction passes or changes, or the socket
// closes; the caller then tries again. It arms the connection's poller
// registration for the wait.
func (s *sockConn) wait(write bool) error {
	c := s.owner
	p := c.poll
	w := c.cm.sockWaits.Get().(*sockWait)
	slot, dl := &s.rw, &s.rdl
	if write {
		slot, dl = &s.ww, &s.wdl
	}
	p.mu.Lock()
	*slot = w
	if err := p.armLocked(c); err != nil { // net.ErrClosed once Close was called
		*slot = nil
		p.mu.Unlock()
		c.cm.sockWaits.Put(w)
		return s.opError(opName(write), err)
	}
	p.mu.Unlock()
	if !awaitWake(w, dl.Load()) {
		p.endWait(slot, w)
	}
	c.cm.sockWaits.Put(w)
	return nil
}

// awaitWake waits for w's wake-up until the deadline dl (unix
// nanoseconds, 0 for none) and reports whether the wake-up came.
func awaitWake(w *sockWait, dl int64) bool {
	if dl == 0 {
		<-w.ch
		return true
	}
	d := time.Duration(dl - time.Now().UnixNano())
	if d <= 0 {
		return false
	}
	w.t.Reset(d)
	defer w.t.Stop()
	select {
	case <-w.ch:
		return true
	case <-w.t.C:
		return false
	}
}

// opName names the operation a wait is for, in errors.
func opName(write bool) string {
	if write {
		return "write"
	}
	return "read"
}

// opError wraps err as the net package does for a TCP connection.
func (s *sockConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Addr: s.RemoteAddr(), Err: err}
}

// LocalAddr returns the socket's local address (the zero address once
// closed).
func (s *sockConn) LocalAddr() net.Addr {
	if !s.acquire() {
		return &net.TCPAddr{}
	}
	sa, err := syscall.Getsockname(int(s.fd))
	s.release()
	if err != nil {
		return &net.TCPAddr{}
	}
	return net.TCPAddrFromAddrPort(addrPortOf(sa))
}

// RemoteAddr returns the peer's address.
func (s *sockConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(s.remote) }

// SetDeadline sets both deadlines.
func (s *sockConn) SetDeadline(t time.Time) error {
	s.rdl.Store(unixNano(t))
	s.wdl.Store(unixNano(t))
	s.wakeWaits(true, true)
	return nil
}

// SetReadDeadline sets the read deadline; a waiting read sees it.
func (s *sockConn) SetReadDeadline(t time.Time) error {
	s.rdl.Store(unixNano(t))
	s.wakeWaits(true, false)
	return nil
}

// SetWriteDeadline sets the write deadline; a waiting write sees it.
func (s *sockConn) SetWriteDeadline(t time.Time) error {
	s.wdl.Store(unixNano(t))
	s.wakeWaits(false, true)
	return nil
}

// unixNano returns t in unix nanoseconds, 0 for the zero time (no
// deadline).
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.UnixNano(), 1)
}

// sockRaw is a sockConn seen as a syscall.RawConn, for the comet's
// non-blocking writes and its poller's arming. Its callbacks run with a
// reference on the descriptor, which is never waited for: a callback
// returning false is called again.
type sockRaw sockConn

// Control calls f with the descriptor.
func (r *sockRaw) Control(f func(fd uintptr)) error {
	s := (*sockConn)(r)
	if !s.acquire() {
		return s.opError("control", net.ErrClosed)
	}
	f(uintptr(s.fd))
	s.release()
	return nil
}

// Read calls f with the descriptor until it returns true, waiting for
// readability in between.
func (r *sockRaw) Read(f func(fd uintptr) bool) error { return r.loop(f, false) }

// Write calls f with the descriptor until it returns true, waiting for
// writability in between.
func (r *sockRaw) Write(f func(fd uintptr) bool) error { return r.loop(f, true) }

// loop is Read and Write.
func (r *sockRaw) loop(f func(fd uintptr) bool, write bool) error {
	s := (*sockConn)(r)
	for {
		if !s.acquire() {
			return s.opError(opName(write), net.ErrClosed)
		}
		done := f(uintptr(s.fd))
		s.release()
		if done {
			return nil
		}
		if err := s.wait(write); err != nil {
			return err
		}
	}
}

// rawConnOf returns the raw socket of nc for flush and the poller, or nil
// when nc is not a plain TCP connection (TLS: the comet cannot write
// under it).
func rawConnOf(nc net.Conn) syscall.RawConn {
	switch c := nc.(type) {
	case *sockConn:
		return (*sockRaw)(c)
	case *net.TCPConn:
		rc, err := c.SyscallConn()
		if err != nil {
			return nil
		}
		return rc
	}
	return nil
}

// sock returns c's socket when the comet owns its descriptor, else nil.
func (c *conn) sock() *sockConn {
	s, _ := c.nc.(*sockConn)
	return s
}

// sockRemote returns the peer's address of nc when it is a sockConn.
func sockRemote(nc net.Conn) (netip.AddrPort, bool) {
	if s, ok := nc.(*sockConn); ok {
		return s.remote, true
	}
	return netip.AddrPort{}, false
}

// setSockOwner records c as the owner of nc when it is a sockConn.
func setSockOwner(nc net.Conn, c *conn) {
	if s, ok := nc.(*sockConn); ok {
		s.owner = c
	}
}
