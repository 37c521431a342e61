package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

var (
	m1    = Message{Op: 1000, Body: []byte("hello")}
	m2    = Message{Op: 1001, Body: []byte(`{"k":"v"}`)}
	m3    = Message{Op: 1002}
	mFull = Message{Op: 1003, Body: bytes.Repeat([]byte("x"), protocol.DefaultMaxBody)}
	hbR   = Message{Op: protocol.OpHeartbeatReply, Seq: 7, Body: []byte{0, 0, 1, 0}}
)

// readAll reads n messages with ReadOwned.
func readAll(t *testing.T, c *Conn, n int) []Message {
	t.Helper()
	var got []Message
	for range n {
		m, err := c.ReadOwned()
		if err != nil {
			t.Fatalf("Read after %d messages: %v", len(got), err)
		}
		got = append(got, m)
	}
	return got
}

// TestReadPushes has a fake server push chunks (TCP: written as is; WS:
// one binary message each) and checks what Read returns, over loopback.
func TestReadPushes(t *testing.T) {
	tests := []struct {
		name string
		tcp  [][]byte // chunks written on TCP; nil: WebSocket only
		ws   [][]byte // messages sent on WebSocket; nil: TCP only
		want []Message
	}{
		{name: "one push", tcp: [][]byte{pushes(m1)}, ws: [][]byte{batch(pushes(m1))}, want: []Message{m1}},
		{name: "pushes back to back", tcp: [][]byte{pushes(m1, m2, m3)}, want: []Message{m1, m2, m3}},
		{name: "bare packets", ws: [][]byte{pushes(m1), pushes(hbR)}, want: []Message{m1, hbR}},
		{name: "batch of three", tcp: [][]byte{batch(pushes(m1, m2, m3))}, ws: [][]byte{batch(pushes(m1, m2, m3))}, want: []Message{m1, m2, m3}},
		{name: "empty batch skipped", tcp: [][]byte{batch(nil), pushes(m2)}, ws: [][]byte{batch(nil), batch(pushes(m2))}, want: []Message{m2}},
		{name: "full body", tcp: [][]byte{pushes(mFull), batch(pushes(m1))}, ws: [][]byte{batch(pushes(mFull, m1))}, want: []Message{mFull, m1}},
		{
			name: "batches and replies mixed",
			tcp:  [][]byte{batch(pushes(m1, m2)), pushes(hbR), batch(pushes(m3)), pushes(m1)},
			ws:   [][]byte{batch(pushes(m1, m2)), pushes(hbR), batch(pushes(m3)), batch(pushes(m1))},
			want: []Message{m1, m2, hbR, m3, m1},
		},
	}
	for _, transport := range []string{TransportTCP, TransportWS} {
		for _, tt := range tests {
			chunks := tt.tcp
			if transport == TransportWS {
				chunks = tt.ws
			}
			if chunks == nil {
				continue
			}
			t.Run(transport+"/"+tt.name, func(t *testing.T) {
				_, cfg := dialTransport(t, transport, func(sc *serverConn) {
					if _, _, err := sc.acceptAuth(); err != nil {
						return
					}
					for _, ch := range chunks {
						if sc.write(ch) != nil {
							return
						}
					}
					sc.serve(0, nil)
				})
				c, err := Dial(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				got := readAll(t, c, len(tt.want))
				if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("messages (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestReadSplit feeds a TCP stream with batches split at every point,
// byte by byte, and in two halves at every offset.
func TestReadSplit(t *testing.T) {
	stream := append(batch(pushes(m1, m2, m3)), pushes(hbR, m1)...)
	want := []Message{m1, m2, m3, hbR, m1}
	check := func(name string, chunks [][]byte) {
		t.Helper()
		c := newMemConn(TransportTCP, &chunkReader{chunks: chunks}, 0)
		got := readAll(t, c, len(want))
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%s: messages (-want +got):\n%s", name, diff)
		}
		if _, err := c.Read(); !errors.Is(err, io.EOF) {
			t.Fatalf("%s: Read at the end = %v, want io.EOF", name, err)
		}
	}
	var bytewise [][]byte
	for i := range stream {
		bytewise = append(bytewise, stream[i:i+1])
	}
	check("byte by byte", bytewise)
	for i := range len(stream) + 1 {
		check("halves", [][]byte{bytes.Clone(stream[:i]), bytes.Clone(stream[i:])})
	}
	// The same over WebSocket frames, split byte by byte.
	frames := wsFrames(batch(pushes(m1, m2, m3)), pushes(hbR), batch(pushes(m1)))
	var wsBytewise [][]byte
	for i := range frames {
		wsBytewise = append(wsBytewise, frames[i:i+1])
	}
	c := newMemConn(TransportWS, &chunkReader{chunks: wsBytewise}, 0)
	if diff := cmp.Diff(want, readAll(t, c, len(want)), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("ws byte by byte: messages (-want +got):\n%s", diff)
	}
}

// header builds a raw packet header.
func rawHeader(packLen int32, headerLen int16, op int32) []byte {
	b := []byte{byte(packLen >> 24), byte(packLen >> 16), byte(packLen >> 8), byte(packLen)}
	b = append(b, byte(headerLen>>8), byte(headerLen), 0, 1)
	return append(b, byte(op>>24), byte(op>>16), byte(op>>8), byte(op), 0, 0, 0, 0)
}

func TestReadErrors(t *testing.T) {
	big := bytes.Repeat([]byte("x"), protocol.DefaultMaxBody+1)
	tests := []struct {
		name      string
		transport string
		stream    []byte
		good      int // messages read before the error
		want      error
	}{
		{"clean EOF", TransportTCP, pushes(m1), 1, io.EOF},
		{"EOF in header", TransportTCP, pushes(m1)[:10], 0, io.ErrUnexpectedEOF},
		{"EOF in body", TransportTCP, pushes(m1)[:18], 0, io.ErrUnexpectedEOF},
		{"EOF in batch", TransportTCP, batch(pushes(m1, m2))[:16+21], 1, io.ErrUnexpectedEOF},
		{"short packLen", TransportTCP, rawHeader(15, 16, 1000), 0, protocol.ErrPacketLen},
		{"negative packLen", TransportTCP, rawHeader(-1, 16, 1000), 0, protocol.ErrPacketLen},
		{"bad headerLen", TransportTCP, rawHeader(16, 17, 1000), 0, protocol.ErrHeaderLen},
		{"body too large", TransportTCP, pushes(Message{Op: 1, Body: big}), 0, protocol.ErrBodyTooLarge},
		{"inner too large", TransportTCP, batch(pushes(Message{Op: 1, Body: big})), 0, protocol.ErrBodyTooLarge},
		{"inner crosses batch", TransportTCP, append(protocol.AppendRawHeader(nil, 25), pushes(m1, m2)...), 1, protocol.ErrTruncated},
		{"ws clean close", TransportWS, wsFrames(pushes(m1)), 1, io.EOF},
		{"ws packLen mismatch", TransportWS, wsFrames(append(pushes(m1), 0)), 0, protocol.ErrPacketLen},
		{"ws short message", TransportWS, wsFrames([]byte{1, 2, 3}), 0, protocol.ErrPacketLen},
		{"ws inner truncated", TransportWS, wsFrames(batch(append(pushes(m1), 0, 0))), 1, protocol.ErrTruncated},
		{"ws inner too large", TransportWS, wsFrames(batch(pushes(Message{Op: 1, Body: big}))), 0, protocol.ErrBodyTooLarge},
		{"ws body too large", TransportWS, wsFrames(pushes(Message{Op: 1, Body: big})), 0, protocol.ErrBodyTooLarge},
		{"ws message too large", TransportWS, wsFrames(batch(bytes.Repeat(pushes(m1), 3200))), 0, websocket.ErrMessageTooBig},
		{"ws text", TransportWS, websocket.AppendFrame(nil, websocket.OpText, []byte("hello")), 0, ErrNotBinary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newMemConn(tt.transport, bytes.NewReader(tt.stream), 0)
			readAll(t, c, tt.good)
			_, err := c.Read()
			if !errors.Is(err, tt.want) {
				t.Fatalf("Read error = %v, want %v", err, tt.want)
			}
			if _, again := c.Read(); again != err {
				t.Errorf("second Read error = %v, want the same %v", again, err)
			}
		})
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	for _, transport := range allTransports {
		t.Run(transport, func(t *testing.T) {
			_, cfg := dialTransport(t, transport, func(sc *serverConn) {
				if _, _, err := sc.acceptAuth(); err == nil {
					sc.serve(0, nil)
				}
			})
			c, err := Dial(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := c.Read()
				done <- err
			}()
			time.Sleep(20 * time.Millisecond) // let Read block (either order passes)
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if !errors.Is(err, ErrClosed) {
					t.Errorf("Read after Close = %v, want ErrClosed", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Read still blocked 10 s after Close")
			}
			if err := c.Heartbeat(); !errors.Is(err, ErrClosed) {
				t.Errorf("Heartbeat after Close = %v, want ErrClosed", err)
			}
			if err := c.Close(); err != nil {
				t.Errorf("second Close = %v, want nil", err)
			}
		})
	}
}

func TestReadOwned(t *testing.T) {
	c := newMemConn(TransportTCP, bytes.NewReader(batch(pushes(m1, m2))), 0)
	a, err := c.ReadOwned()
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Read()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Body, m1.Body) || !bytes.Equal(b.Body, m2.Body) {
		t.Fatalf("bodies %q %q, want %q %q", a.Body, b.Body, m1.Body, m2.Body)
	}
	a.Body[0] = 'X' // owned: must not disturb the Conn's buffer
	if !bytes.Equal(b.Body, m2.Body) {
		t.Fatalf("ReadOwned body aliases the read buffer")
	}
}
