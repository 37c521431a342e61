package client

import (
	"bytes"
	"net"
	"testing"
	"time"

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

// FuzzNodes feeds arbitrary answers of /goim/nodes/weighted to the
// parser, then asks the result for every transport's address and a few
// backoff delays: nothing may panic, an address must be host:port, and a
// delay must lie within 0 and its limit.
func FuzzNodes(f *testing.F) {
	f.Add([]byte(`{"code":0,"data":{"domain":"goim.io","tcp_port":3101,"ws_port":3102,"wss_port":3103,"heartbeat":240,"heartbeat_max":3,"nodes":["10.0.0.1","10.0.0.2"],"backoff":{"max_delay":300,"base_delay":3,"factor":1.8,"jitter":0.3}}}`))
	f.Add([]byte(`{"code":0,"data":{"nodes":["10.0.0.1:4101"],"tcp_port":0}}`))
	f.Add([]byte(`{"code":-500,"message":"down"}`))
	f.Add([]byte(`{"code":0,"data":{"nodes":[],"backoff":{"max_delay":-1,"base_delay":2147483647,"factor":1e308,"jitter":-5}}}`))
	f.Add([]byte(`{"code":0,"data":null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		info, err := parseNodes(body)
		if err != nil {
			return
		}
		for _, tr := range []string{TransportTCP, TransportTLS, TransportWS, TransportWSS, "nope"} {
			if addr, ok := info.Addr(tr); ok {
				if _, _, err := net.SplitHostPort(addr); err != nil {
					t.Fatalf("Addr(%s) = %q: %v", tr, addr, err)
				}
			}
		}
		for _, n := range []int{-1, 0, 1, 10, 1000} {
			for _, r := range []float64{0, 0.5, 0.999} {
				const limit = time.Minute
				if d := info.Backoff.Delay(n, r, limit); d < 0 || d > limit {
					t.Fatalf("Delay(%d, %v, %v) = %v with %+v", n, r, limit, d, info.Backoff)
				}
			}
		}
	})
}
