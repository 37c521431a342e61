//go:build unix

package rawsock

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// pair returns the two ends of a loopback TCP connection, closed at the
// test's end.
func pair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// writeAfter writes s to nc after d, from another goroutine.
func writeAfter(t *testing.T, nc net.Conn, d time.Duration, s string) {
	go func() {
		time.Sleep(d)
		if _, err := io.WriteString(nc, s); err != nil {
			t.Errorf("write %q: %v", s, err)
		}
	}()
}

// TestReaderWaits reads inside one RawConn.Read: an empty socket reports
// ErrWouldBlock, a wait without a read ends when data comes, and the
// Reader reads the net.Conn again after Leave.
func TestReaderWaits(t *testing.T) {
	peer, nc := pair(t)
	r := NewReader(nc)
	rc := RawConn(nc)
	if rc == nil {
		t.Fatal("no RawConn for a TCP connection")
	}
	var got []string
	var errs []error
	buf := make([]byte, 16)
	step := 0
	writeAfter(t, peer, 20*time.Millisecond, "one")
	err := rc.Read(func(fd uintptr) bool {
		step++
		r.Enter(fd)
		defer r.Leave()
		n, err := r.Read(buf)
		if err != nil {
			errs = append(errs, err)
			return false // wait for data
		}
		got = append(got, string(buf[:n]))
		if len(got) == 1 {
			writeAfter(t, peer, 20*time.Millisecond, "two")
			return false // wait without reading: the next data wakes it
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Errorf("read %q, want one, two", got)
	}
	for _, e := range errs {
		if !errors.Is(e, ErrWouldBlock) {
			t.Errorf("read of an empty socket: %v, want ErrWouldBlock", e)
		}
	}
	if len(errs) == 0 {
		t.Error("the first read found data it could not have yet")
	}
	writeAfter(t, peer, 0, "three")
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "three" {
		t.Errorf("read after Leave: %q, %v", buf[:n], err)
	}
	peer.Close()
	if _, err := r.Read(buf); err != io.EOF {
		t.Errorf("read after the peer closed: %v, want io.EOF", err)
	}
}

// TestWrite writes inside RawConn.Write.
func TestWrite(t *testing.T) {
	peer, nc := pair(t)
	var n int
	var werr error
	if err := RawConn(nc).Write(func(fd uintptr) bool {
		n, werr = Write(fd, []byte("hello"))
		return true
	}); err != nil || werr != nil || n != 5 {
		t.Fatalf("write: %d, %v, %v", n, werr, err)
	}
	buf := make([]byte, 5)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "hello" {
		t.Errorf("peer read %q, %v", buf, err)
	}
}

// TestShutdown shuts a socket down while a RawConn.Read callback runs: it
// does not wait for the callback, the peer reads the end, and the wait
// after the callback ends.
func TestShutdown(t *testing.T) {
	peer, nc := pair(t)
	rc := RawConn(nc)
	inside, shut := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	r := NewReader(nc)
	go func() {
		first := true
		done <- rc.Read(func(fd uintptr) bool {
			r.Enter(fd)
			defer r.Leave()
			if first {
				first = false
				close(inside)
				<-shut
				return false // wait: the shutdown must end it
			}
			_, err := r.Read(make([]byte, 1))
			return err != ErrWouldBlock
		})
	}()
	<-inside
	if err := rc.Control(Shutdown); err != nil {
		t.Fatal(err)
	}
	close(shut)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RawConn.Read after shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the wait did not end after the shutdown")
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := peer.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("peer read %v, want io.EOF", err)
	}
}
