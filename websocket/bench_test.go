package websocket

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	xws "golang.org/x/net/websocket"
)

// payload1K is the 1 KB message of the benchmarks.
var payload1K = bytes.Repeat([]byte("0123456789abcdef"), 64)

func BenchmarkAppendFrame(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(payload1K)))
	buf := make([]byte, 0, 2048)
	for b.Loop() {
		buf = AppendFrame(buf[:0], OpBinary, payload1K)
	}
}

func BenchmarkAppendFrameHeader(b *testing.B) {
	b.ReportAllocs()
	var arr [MaxFrameHeaderSize]byte
	for b.Loop() {
		AppendFrameHeader(arr[:0], true, OpBinary, &testKey, 1024)
	}
}

func BenchmarkMask(b *testing.B) {
	for _, size := range []int{16, 1024, 16384} {
		buf := make([]byte, size)
		b.Run("ours/"+sizeName(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				Mask(testKey, 1, buf)
			}
		})
		b.Run("bytewise/"+sizeName(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				maskBytewise(testKey, 1, buf)
			}
		})
	}
}

// sizeName formats a byte count for a benchmark name.
func sizeName(n int) string {
	if n >= 1024 {
		return strconv.Itoa(n/1024) + "K"
	}
	return strconv.Itoa(n)
}

// repeatFrames returns n copies of frame back to back.
func repeatFrames(frame []byte, n int) []byte { return bytes.Repeat(frame, n) }

// BenchmarkReadMessage1K reads 1 KB binary messages: ours in both roles,
// and golang.org/x/net/websocket's client reading the same server frames.
func BenchmarkReadMessage1K(b *testing.B) {
	b.Run("ours/server-masked", func(b *testing.B) {
		r := &loopReader{data: repeatFrames(clientFrame(true, OpBinary, payload1K), 64)}
		benchOurRead(b, NewServerConn(&discardConn{r: r}, nil, ConnConfig{}))
	})
	b.Run("ours/client", func(b *testing.B) {
		r := &loopReader{data: repeatFrames(serverFrame(true, OpBinary, payload1K), 64)}
		benchOurRead(b, NewClientConn(&discardConn{r: r}, nil, ConnConfig{}))
	})
	b.Run("xnet/client-Read", func(b *testing.B) {
		ws := newXNetClient(b, repeatFrames(serverFrame(true, OpBinary, payload1K), 64))
		buf := make([]byte, 1024)
		b.ReportAllocs()
		b.SetBytes(1024)
		for b.Loop() {
			if _, err := io.ReadFull(ws, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("xnet/client-Receive", func(b *testing.B) {
		ws := newXNetClient(b, repeatFrames(serverFrame(true, OpBinary, payload1K), 64))
		var msg []byte
		b.ReportAllocs()
		b.SetBytes(1024)
		for b.Loop() {
			if err := xws.Message.Receive(ws, &msg); err != nil || len(msg) != 1024 {
				b.Fatal(err)
			}
		}
	})
}

// benchOurRead reads 1 KB messages from c into a reused buffer.
func benchOurRead(b *testing.B, c *Conn) {
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.SetBytes(1024)
	for b.Loop() {
		_, msg, err := c.ReadMessage(buf[:0])
		if err != nil || len(msg) != 1024 {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteMessage1K writes 1 KB binary messages to a discarding conn.
func BenchmarkWriteMessage1K(b *testing.B) {
	for _, role := range []string{"server", "client"} {
		b.Run("ours/"+role, func(b *testing.B) {
			c := newConn(&discardConn{}, role == "client", nil, ConnConfig{})
			b.ReportAllocs()
			b.SetBytes(1024)
			for b.Loop() {
				if err := c.WriteMessage(OpBinary, payload1K); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("xnet/client", func(b *testing.B) {
		ws := newXNetClient(b, serverFrame(true, OpBinary, nil))
		ws.PayloadType = xws.BinaryFrame
		b.ReportAllocs()
		b.SetBytes(1024)
		for b.Loop() {
			if _, err := ws.Write(payload1K); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFanout1K sends one 1 KB push to 1000 server connections: encoded
// once and written as prepared bytes, or framed per connection.
func BenchmarkFanout1K(b *testing.B) {
	conns := make([]*Conn, 1000)
	for i := range conns {
		conns[i] = NewServerConn(&discardConn{}, nil, ConnConfig{})
	}
	b.Run("prepared", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			buf = AppendFrame(buf[:0], OpBinary, payload1K)
			for _, c := range conns {
				c.WritePreparedFrame(buf)
			}
		}
	})
	b.Run("per-conn", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range conns {
				c.WriteMessage(OpBinary, payload1K)
			}
		}
	})
}

func BenchmarkServerHandshake(b *testing.B) {
	rw := &handshakeRW{}
	r := strings.NewReader(goodRequest)
	buf := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(goodRequest)
		rw.r = r
		rw.w.Reset()
		if _, _, err := ServerHandshake(rw, buf, &testHandshakeConfig); err != nil {
			b.Fatal(err)
		}
	}
}

// xnetRWC plays a server for an x/net client: it answers the handshake,
// then serves frames endlessly and discards what the client writes.
type xnetRWC struct {
	request bytes.Buffer
	r       io.Reader
	frames  []byte
}

func (x *xnetRWC) Write(p []byte) (int, error) {
	if x.r != nil {
		return len(p), nil
	}
	x.request.Write(p)
	_, rest, _ := strings.Cut(x.request.String(), "Sec-WebSocket-Key: ")
	key, _, ok := strings.Cut(rest, "\r\n")
	if ok && strings.HasSuffix(x.request.String(), "\r\n\r\n") {
		answer := answer101("")(AcceptKey(key))
		x.r = io.MultiReader(strings.NewReader(answer), &loopReader{data: x.frames})
	}
	return len(p), nil
}

func (x *xnetRWC) Read(p []byte) (int, error) { return x.r.Read(p) }
func (x *xnetRWC) Close() error               { return nil }

// newXNetClient returns an x/net client conn reading frames endlessly.
func newXNetClient(b *testing.B, frames []byte) *xws.Conn {
	cfg, err := xws.NewConfig("ws://example.com/sub", "http://example.com")
	if err != nil {
		b.Fatal(err)
	}
	ws, err := xws.NewClient(cfg, &xnetRWC{frames: frames})
	if err != nil {
		b.Fatal(err)
	}
	return ws
}

var _ net.Conn = (*discardConn)(nil)
