package client

import (
	"io"
	"net"
	"time"

	"github.com/goimx/goim/websocket"
)

// memConn is a net.Conn that reads from r and discards writes; deadlines
// are ignored. It lets tests and benchmarks drive a Conn without sockets.
type memConn struct{ r io.Reader }

func (m memConn) Read(p []byte) (int, error)       { return m.r.Read(p) }
func (m memConn) Write(p []byte) (int, error)      { return len(p), nil }
func (m memConn) Close() error                     { return nil }
func (m memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (m memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (m memConn) SetDeadline(time.Time) error      { return nil }
func (m memConn) SetReadDeadline(time.Time) error  { return nil }
func (m memConn) SetWriteDeadline(time.Time) error { return nil }

// memSettings are the settings of in-memory test Conns.
func memSettings(maxBody int) settings {
	s, err := Config{Addr: "mem:1", MaxBody: maxBody}.resolve()
	if err != nil {
		panic(err)
	}
	return s
}

// newMemConn returns a Conn reading the server stream from r: raw packets
// for "tcp", server frames for "ws".
func newMemConn(transport string, r io.Reader, maxBody int) *Conn {
	s := memSettings(maxBody)
	nc := memConn{r}
	if transport == TransportWS {
		return newConn(nc, websocket.NewClientConn(nc, nil, websocket.ConnConfig{MaxMessageSize: s.MaxMessage}), s)
	}
	return newConn(nc, nil, s)
}

// wsFrames encodes each message as one unmasked binary frame.
func wsFrames(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = websocket.AppendFrame(b, websocket.OpBinary, m)
	}
	return b
}

// chunkReader returns its chunks one per Read call (each at most len(p)).
type chunkReader struct{ chunks [][]byte }

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	return n, nil
}

// repeatReader returns data over and over, forever.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.data[r.off:])
		n += k
		r.off = (r.off + k) % len(r.data)
	}
	return n, nil
}
