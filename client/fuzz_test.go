package client

import (
	"bytes"
	"testing"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// FuzzReadStream feeds arbitrary bytes to Read as a server stream. The
// first byte picks the transport (bit 0: WebSocket frames, else raw TCP)
// and the body limit (bit 1: 64 bytes, else the default). Read must never
// panic, must return bodies within the limit, and must end with an error.
func FuzzReadStream(f *testing.F) {
	big := bytes.Repeat([]byte("x"), 100)
	tcpSeeds := [][]byte{
		pushes(m1),
		pushes(m1, m2, m3, hbR),
		batch(pushes(m1, m2, m3)),
		append(batch(nil), pushes(m2)...),
		append(batch(pushes(m1, m2)), pushes(hbR)...),
		batch(batch(pushes(m1))),
		append(protocol.AppendRawHeader(nil, 25), pushes(m1, m2)...),
		pushes(Message{Op: 1, Body: big}),
		rawHeader(15, 16, 1000),
		rawHeader(16, 17, 1000),
		batch(pushes(m1))[:30],
	}
	for _, s := range tcpSeeds {
		f.Add(append([]byte{0}, s...))
		f.Add(append([]byte{2}, s...))
	}
	wsSeeds := [][]byte{
		wsFrames(batch(pushes(m1, m2, m3))),
		wsFrames(pushes(hbR), batch(pushes(m1)), batch(nil)),
		wsFrames(batch(append(pushes(m1), 0, 0))),
		wsFrames(append(pushes(m1), 0)),
		wsFrames(batch(pushes(Message{Op: 1, Body: big}))),
		websocket.AppendFrame(nil, websocket.OpText, []byte("hi")),
		websocket.AppendFrame(nil, websocket.OpPing, []byte("p")),
	}
	for _, s := range wsSeeds {
		f.Add(append([]byte{1}, s...))
		f.Add(append([]byte{3}, s...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		transport, maxBody := TransportTCP, 0
		if data[0]&1 != 0 {
			transport = TransportWS
		}
		if data[0]&2 != 0 {
			maxBody = 64
		}
		c := newMemConn(transport, bytes.NewReader(data[1:]), maxBody)
		limit := c.maxBody
		for range len(data) + 1 {
			m, err := c.Read()
			if err != nil {
				return
			}
			if len(m.Body) > limit {
				t.Fatalf("body of %d bytes, limit %d", len(m.Body), limit)
			}
		}
		t.Fatalf("Read returned more messages than the stream has bytes")
	})
}
