//go:build linux

package comet

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/goimx/goim/internal/testwait"
)

// sockPair returns a sockConn accepted from a loopback listener, owned by
// a connection of a test comet (testComet), and its peer.
func sockPair(t *testing.T) (*sockConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	cm := testComet(t)
	_, accept, stop := cm.socketAccepter(ln)
	defer stop()
	nc, err := accept()
	if err != nil {
		t.Fatal(err)
	}
	s := nc.(*sockConn)
	c := &conn{cm: cm, id: cm.connID.Add(1), nc: s, poll: cm.polls.ps[0]}
	s.owner = c
	t.Cleanup(func() { s.Close() })
	return s, peer
}

// fdOpen reports whether fd is an open descriptor.
func fdOpen(fd int32) bool {
	_, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	return errno == 0
}

// TestSockConnReadWrite: bytes go both ways, a read waits for bytes
// that come later (through the poller), the peer's close reads as EOF,
// and the addresses are the peer's and the listener's.
func TestSockConnReadWrite(t *testing.T) {
	s, peer := sockPair(t)
	if got, want := s.RemoteAddr().String(), peer.LocalAddr().String(); got != want {
		t.Errorf("RemoteAddr %s, want %s", got, want)
	}
	if got, want := s.LocalAddr().String(), peer.RemoteAddr().String(); got != want {
		t.Errorf("LocalAddr %s, want %s", got, want)
	}
	if _, err := s.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("peer read %q %v", buf, err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond) // the read below waits first
		peer.Write([]byte("pong"))
		peer.Close()
	}()
	if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("read %q %v", buf, err)
	}
	if n, err := s.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed: %d %v, want EOF", n, err)
	}
}

// TestSockConnDeadlines: a read and a write that wait end with a timeout
// at their deadline, and at once when a deadline in the past is set
// while they wait.
func TestSockConnDeadlines(t *testing.T) {
	s, _ := sockPair(t)
	buf := make([]byte, 1)
	s.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	if _, err := s.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v, want a timeout", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("read timed out after %v, before its deadline", d)
	}
	var nerr net.Error
	s.SetReadDeadline(time.Time{})
	errc := make(chan error, 1)
	go func() { _, err := s.Read(buf); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	s.SetReadDeadline(time.Unix(1, 0))
	if err := <-errc; !errors.As(err, &nerr) || !nerr.Timeout() {
		t.Fatalf("waiting read after a past deadline: %v, want a timeout", err)
	}

	// The peer reads nothing: the socket's buffers fill and the write
	// waits until its deadline. (The buffer is made first: making 64 MB
	// can take longer than the deadline on a loaded machine.)
	big := make([]byte, 64<<20)
	s.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	n, err := s.Write(big)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n == 0 || n == len(big) {
		t.Fatalf("write to a full socket: %d of %d, %v; want part of it and a timeout", n, len(big), err)
	}
	s.SetWriteDeadline(time.Time{})
	go func() { _, err := s.Write(big); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	s.SetWriteDeadline(time.Unix(1, 0))
	if err := <-errc; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("waiting write after a past deadline: %v, want a timeout", err)
	}
}

// TestSockConnCloseWakesWaits: Close ends a waiting read and a waiting
// write with net.ErrClosed, closes the descriptor, and later calls fail
// the same way.
func TestSockConnCloseWakesWaits(t *testing.T) {
	s, _ := sockPair(t)
	fill := make([]byte, 64<<20)
	s.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	s.Write(fill) // fills the socket's buffers
	s.SetWriteDeadline(time.Time{})
	errc := make(chan error, 2)
	go func() { _, err := s.Read(make([]byte, 1)); errc <- err }()
	go func() { _, err := s.Write(fill); errc <- err }()
	time.Sleep(50 * time.Millisecond)
	fd := s.fd
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case err := <-errc:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("waiting call after Close: %v, want net.ErrClosed", err)
			}
		case <-time.After(waitTimeout):
			t.Fatal("a waiting call did not end at Close")
		}
	}
	if fdOpen(fd) {
		t.Error("descriptor still open after Close")
	}
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after Close: %v", err)
	}
	if err := s.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

// TestSockConnCloseWaitsForCalls: a descriptor in use by a system call
// (a reference) stays open through Close until the call returns, so the
// call can never reach another socket that took its number.
func TestSockConnCloseWaitsForCalls(t *testing.T) {
	s, _ := sockPair(t)
	if !s.acquire() {
		t.Fatal("acquire of an open socket failed")
	}
	s.Close()
	if !fdOpen(s.fd) {
		t.Fatal("descriptor closed under a call")
	}
	if s.acquire() {
		t.Fatal("acquire after Close succeeded")
	}
	s.release()
	if fdOpen(s.fd) {
		t.Fatal("descriptor open after its last call")
	}
}

// TestSockConnWriteBuffers: vectored writes of more messages than one
// writev takes, over a socket that fills, arrive whole and in order.
func TestSockConnWriteBuffers(t *testing.T) {
	s, peer := sockPair(t)
	var msgs net.Buffers
	var want []byte
	for i := range 3 * maxWritev {
		m := make([]byte, 64<<10+i)
		for j := range m {
			m[j] = byte(i + j)
		}
		msgs = append(msgs, m)
		want = append(want, m...)
	}
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(50 * time.Millisecond) // let the socket fill first
		b := make([]byte, len(want))
		io.ReadFull(peer, b)
		got <- b
	}()
	if n, err := s.WriteBuffers(&msgs); err != nil || n != int64(len(want)) {
		t.Fatalf("wrote %d of %d: %v", n, len(want), err)
	}
	if len(msgs) != 0 {
		t.Errorf("%d messages left", len(msgs))
	}
	if b := <-got; string(b) != string(want) {
		t.Error("the peer read other bytes than were written")
	}
}

// TestSockConnSize pins the size of sockConn, which every idle plain
// connection holds: the allocator's 80-byte size class (64-bit
// platforms), against about 0.8 KB of net.TCPConn state it replaces.
func TestSockConnSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes pinned for 64-bit platforms")
	}
	if n := unsafe.Sizeof(sockConn{}); n > 80 {
		t.Errorf("sockConn is %d bytes, want at most 80", n)
	}
}

// TestSockConnParkedWithWaitingWrite: one registration serves a parked
// reader and a waiting write at once: a byte from the peer starts the
// reader without ending the write's wait, which is armed again and ends
// once the peer reads.
func TestSockConnParkedWithWaitingWrite(t *testing.T) {
	s, peer := sockPair(t)
	c := s.owner
	c.raw = rawConnOf(s)
	started := make(chan struct{}, 1)
	c.readFn = func() { started <- struct{}{} }

	big := make([]byte, 32<<20)
	wrote := make(chan error, 1)
	go func() { _, err := s.Write(big); wrote <- err }()
	testwait.For(t, waitTimeout, "the write to wait", func() bool {
		c.poll.mu.Lock()
		defer c.poll.mu.Unlock()
		return s.ww != nil
	})
	if !c.park() {
		t.Fatal("park failed")
	}
	if _, err := peer.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(waitTimeout):
		t.Fatal("no reader started for the parked connection")
	}
	select {
	case err := <-wrote:
		t.Fatalf("the write ended before the peer read: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	peer.SetReadDeadline(time.Now().Add(waitTimeout))
	n, err := io.Copy(io.Discard, io.LimitReader(peer, int64(len(big))))
	if err != nil || n != int64(len(big)) {
		t.Fatalf("peer read %d of %d: %v", n, len(big), err)
	}
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatalf("write: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the write did not end once the peer read everything")
	}
}

// testComet returns a Comet with one running poller, enough for
// acceptors and sockConns.
func testComet(t *testing.T) *Comet {
	t.Helper()
	p, err := newPoller()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.run() }()
	t.Cleanup(func() {
		p.stopWait()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	cm := &Comet{polls: &pollers{ps: []*poller{p}}}
	cm.sockWaits.New = func() any { return newSockWait() }
	cm.rawWriters.New = func() any { return newRawWriter() }
	return cm
}

// TestAcceptor: an accept waits (through the poller) for a client that
// dials later and hands out its socket set up as the net package sets
// up one (no Nagle delay, keep-alive); Close through the acceptor ends a
// waiting accept at once, and a Close of the net.TCPListener itself
// within acceptRecheck.
func TestAcceptor(t *testing.T) {
	cm := testComet(t)
	for _, viaAcceptor := range []bool{true, false} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		wrapped, accept, stop := cm.socketAccepter(ln)
		if _, ok := wrapped.(*acceptor); !ok {
			t.Fatalf("socketAccepter of a TCP listener with a poller gave %T", wrapped)
		}
		type result struct {
			nc  net.Conn
			err error
		}
		got := make(chan result, 1)
		go func() { nc, err := accept(); got <- result{nc, err} }()
		time.Sleep(50 * time.Millisecond) // the accept waits first
		peer, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		r := <-got
		if r.err != nil {
			t.Fatal(r.err)
		}
		s := r.nc.(*sockConn)
		if s.RemoteAddr().String() != peer.LocalAddr().String() {
			t.Errorf("RemoteAddr %s, want %s", s.RemoteAddr(), peer.LocalAddr())
		}
		for _, o := range []struct {
			level, opt int
			name       string
		}{{syscall.IPPROTO_TCP, syscall.TCP_NODELAY, "TCP_NODELAY"}, {syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, "SO_KEEPALIVE"}} {
			if v, err := syscall.GetsockoptInt(int(s.fd), o.level, o.opt); err != nil || v == 0 {
				t.Errorf("%s of the accepted socket: %d %v, want on", o.name, v, err)
			}
		}
		s.Close()
		peer.Close()

		go func() { nc, err := accept(); got <- result{nc, err} }()
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		if viaAcceptor {
			wrapped.Close()
		} else {
			ln.Close()
		}
		select {
		case r := <-got:
			if !errors.Is(r.err, net.ErrClosed) {
				t.Errorf("accept after Close: %v %v, want net.ErrClosed", r.nc, r.err)
			}
			if d := time.Since(start); viaAcceptor && d > acceptRecheck/2 {
				t.Errorf("Close through the acceptor took %v to end the accept", d)
			}
		case <-time.After(waitTimeout):
			t.Fatal("a waiting accept did not end at Close")
		}
		stop()
	}
}
