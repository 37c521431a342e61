package comet

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// sinkConn is a net.Conn that takes every write and blocks reads until it
// is closed: a client that reads everything at once, without a socket.
type sinkConn struct {
	written atomic.Int64
	writes  atomic.Int64
	once    sync.Once
	done    chan struct{}
}

func newSinkConn() *sinkConn { return &sinkConn{done: make(chan struct{})} }

func (c *sinkConn) Read(p []byte) (int, error) {
	<-c.done
	return 0, io.EOF
}

func (c *sinkConn) Write(p []byte) (int, error) {
	select {
	case <-c.done:
		return 0, net.ErrClosed
	default:
	}
	c.written.Add(int64(len(p)))
	c.writes.Add(1)
	return len(p), nil
}

func (c *sinkConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

var sinkAddr = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4000}

func (c *sinkConn) LocalAddr() net.Addr                { return sinkAddr }
func (c *sinkConn) RemoteAddr() net.Addr               { return sinkAddr }
func (c *sinkConn) SetDeadline(t time.Time) error      { return nil }
func (c *sinkConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *sinkConn) SetWriteDeadline(t time.Time) error { return nil }

// addSinkConn registers an authenticated connection over a sinkConn with
// key in room (empty: none), accepting accepts, without a reader.
func addSinkConn(cm *Comet, key, room string, accepts ...int32) (*conn, *sinkConn) {
	sc := newSinkConn()
	c := newConn(cm, sc)
	c.key = key
	c.accepts = accepts
	c.bucket = cm.bucketByKey(key)
	c.bucket.put(c, room, nil)
	return c, sc
}
