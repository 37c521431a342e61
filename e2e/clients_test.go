package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goimx/goim/client"
)

// recvTimeout bounds a wait for a message that should arrive.
const recvTimeout = 10 * time.Second

// msg is a received push, as the tests compare them.
type msg struct {
	Op   int32
	Body string
}

// tclient is a connected test client whose messages a goroutine reads
// into a channel.
type tclient struct {
	name string
	conn *client.Conn
	msgs chan msg      // pushes in arrival order
	done chan struct{} // closed when the reader stopped
	once sync.Once

	mu      sync.Mutex // guards readErr
	readErr error      // why the reader stopped
}

// token returns an auth token.
func token(mid int64, key, room string, accepts ...int32) client.Token {
	return client.Token{Mid: mid, Key: key, RoomID: room, Platform: "web", Accepts: accepts}
}

// dialClient connects a client over transport ("tcp" or "ws") to addr and
// starts its reader; it is closed at the end of the test.
func dialClient(t testing.TB, name, transport, addr string, tok client.Token) *tclient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), recvTimeout)
	defer cancel()
	conn, err := client.Dial(ctx, client.Config{Transport: transport, Addr: addr, Token: tok})
	if err != nil {
		t.Fatalf("dial %s (%s %s): %v", name, transport, addr, err)
	}
	c := &tclient{name: name, conn: conn, msgs: make(chan msg, 4096), done: make(chan struct{})}
	go c.read()
	t.Cleanup(c.close)
	return c
}

// read forwards every message to c.msgs until the connection ends.
func (c *tclient) read() {
	defer close(c.done)
	defer close(c.msgs)
	for {
		m, err := c.conn.Read()
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
		select {
		case c.msgs <- msg{Op: m.Op, Body: string(m.Body)}:
		default:
			c.mu.Lock()
			c.readErr = fmt.Errorf("%s: message buffer full", c.name)
			c.mu.Unlock()
			return
		}
	}
}

// close closes the connection and waits for the reader.
func (c *tclient) close() {
	c.once.Do(func() { c.conn.Close() })
	<-c.done
}

// err returns why the reader stopped, nil while it runs.
func (c *tclient) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// next returns the next message, or false if none came within timeout or
// the connection ended.
func (c *tclient) next(timeout time.Duration) (msg, bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m, ok := <-c.msgs:
		return m, ok
	case <-t.C:
		return msg{}, false
	}
}

// until returns the messages received before the one whose body is
// fence (which it consumes), failing the test if the fence does not come
// within recvTimeout.
func (c *tclient) until(t testing.TB, fence string) []msg {
	t.Helper()
	var got []msg
	deadline := time.Now().Add(recvTimeout)
	for {
		m, ok := c.next(time.Until(deadline))
		if !ok {
			t.Fatalf("%s: no %q within %v (read error %v); got before: %v", c.name, fence, recvTimeout, c.err(), got)
		}
		if m.Body == fence {
			return got
		}
		got = append(got, m)
	}
}

// receivedWithin reports whether a message with body arrives within
// timeout; the messages before it are dropped.
func (c *tclient) receivedWithin(body string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		m, ok := c.next(time.Until(deadline))
		if !ok {
			return false
		}
		if m.Body == body {
			return true
		}
	}
}

// untilSkipping is until for a fence pushed after retried pushes: it
// drops the messages whose body starts with skip and returns the others.
func (c *tclient) untilSkipping(t testing.TB, fence, skip string) []msg {
	t.Helper()
	var out []msg
	for _, m := range c.until(t, fence) {
		if !strings.HasPrefix(m.Body, skip) {
			out = append(out, m)
		}
	}
	return out
}

// waitClosed waits until the server closed the connection.
func (c *tclient) waitClosed(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(recvTimeout)
	for {
		if _, ok := c.next(time.Until(deadline)); !ok {
			break
		}
	}
	// The reader closes msgs just before done: wait for done too.
	select {
	case <-c.done:
	case <-time.After(time.Until(deadline)):
		t.Fatalf("%s: connection still open after %v", c.name, recvTimeout)
	}
}
