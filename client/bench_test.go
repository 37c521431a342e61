package client

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/goimx/goim/protocol"
)

// benchPush is a typical pushed message: a short JSON comment.
var benchPush = Message{Op: 1000, Body: []byte(`{"mid":123,"room":"live://1000","msg":"hello, world"}`)}

// benchBatch is a room batch of 16 pushes.
func benchBatch() []byte {
	var inner []byte
	for range 16 {
		inner = append(inner, pushes(benchPush)...)
	}
	return batch(inner)
}

// BenchmarkRead measures Read per message on in-memory streams (no
// syscalls): bare TCP pushes, TCP and WebSocket op-9 batches of 16, and as
// a baseline protocol.Packet.ReadFrom over the same bare TCP stream with
// the standard library's bufio.Reader (Peek-based, through an adapter).
func BenchmarkRead(b *testing.B) {
	var tcpBare []byte
	for range 16 {
		tcpBare = append(tcpBare, pushes(benchPush)...)
	}
	cases := []struct {
		name      string
		transport string
		stream    []byte
	}{
		{"tcp", TransportTCP, tcpBare},
		{"tcp-batch16", TransportTCP, benchBatch()},
		{"ws-batch16", TransportWS, wsFrames(benchBatch())},
	}
	for _, cs := range cases {
		b.Run(cs.name, func(b *testing.B) {
			c := newMemConn(cs.transport, &repeatReader{data: cs.stream}, 0)
			b.SetBytes(int64(protocol.HeaderLen + len(benchPush.Body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("baseline-protocol.ReadFrom", func(b *testing.B) {
		r := stdPopper{bufio.NewReaderSize(&repeatReader{data: tcpBare}, 4112)}
		b.SetBytes(int64(protocol.HeaderLen + len(benchPush.Body)))
		b.ReportAllocs()
		var p protocol.Packet
		for b.Loop() {
			if err := p.ReadFrom(r, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tcp-ReadOwned", func(b *testing.B) {
		c := newMemConn(TransportTCP, &repeatReader{data: tcpBare}, 0)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.ReadOwned(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// stdPopper adapts the standard library's bufio.Reader to protocol.Reader.
type stdPopper struct{ r *bufio.Reader }

func (s stdPopper) Pop(n int) ([]byte, error) {
	b, err := s.r.Peek(n)
	if err != nil {
		return nil, err
	}
	s.r.Discard(n)
	return b, nil
}

// BenchmarkReadLoopback measures Read per message over loopback sockets
// while a fake server pushes 16-message batches as fast as it can.
func BenchmarkReadLoopback(b *testing.B) {
	for _, transport := range []string{TransportTCP, TransportWS} {
		b.Run(transport+"-batch16", func(b *testing.B) {
			chunk := bytes.Repeat(benchBatch(), 8) // TCP: 8 batches per write
			if transport == TransportWS {
				chunk = benchBatch() // WS: one batch per message
			}
			s := newFakeServer(b, transport, nil, func(sc *serverConn) {
				if _, _, err := sc.acceptAuth(); err != nil {
					return
				}
				for sc.write(chunk) == nil {
				}
			})
			c, err := Dial(context.Background(), s.Config())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.SetBytes(int64(protocol.HeaderLen + len(benchPush.Body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWrite measures the write methods over loopback to a server
// that discards what it reads.
func BenchmarkWrite(b *testing.B) {
	for _, transport := range []string{TransportTCP, TransportWS} {
		s := newFakeServer(b, transport, nil, func(sc *serverConn) {
			if _, _, err := sc.acceptAuth(); err != nil {
				return
			}
			io.Copy(io.Discard, sc.nc)
		})
		c, err := Dial(context.Background(), s.Config())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(transport+"/Heartbeat", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Heartbeat(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(transport+"/Send", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Send(1000, benchPush.Body); err != nil {
					b.Fatal(err)
				}
			}
		})
		c.Close()
		s.Close()
	}
}
