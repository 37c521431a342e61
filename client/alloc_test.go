//go:build !race

package client

import (
	"testing"
)

// TestReadAllocs pins the aliasing Read at 0 allocations per message, for
// TCP (bare pushes and op-9 batches) and WebSocket batches.
func TestReadAllocs(t *testing.T) {
	streams := []struct {
		name      string
		transport string
		stream    []byte
	}{
		{"tcp", TransportTCP, append(batch(pushes(m1, m2, m3)), pushes(hbR, m1)...)},
		{"ws", TransportWS, wsFrames(batch(pushes(m1, m2, m3)), pushes(hbR), batch(pushes(mFull)))},
	}
	for _, s := range streams {
		c := newMemConn(s.transport, &repeatReader{data: s.stream}, 0)
		allocs := testing.AllocsPerRun(1000, func() {
			if _, err := c.Read(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: Read allocates %.1f times per message, want 0", s.name, allocs)
		}
	}
}

// TestWriteAllocs pins the write methods at 0 allocations per packet.
func TestWriteAllocs(t *testing.T) {
	body := []byte("payload")
	for _, transport := range []string{TransportTCP, TransportWS} {
		c := newMemConn(transport, &repeatReader{data: []byte{0}}, 0)
		ops := []struct {
			name string
			fn   func() error
		}{
			{"Heartbeat", c.Heartbeat},
			{"Send", func() error { _, err := c.Send(1000, body); return err }},
			{"Sub", func() error { return c.Sub(1000, 1001) }},
			{"ChangeRoom", func() error { return c.ChangeRoom("live://1000") }},
			{"JoinRoom", func() error { return c.JoinRoom("chat://7") }},
		}
		for _, op := range ops {
			allocs := testing.AllocsPerRun(1000, func() {
				if err := op.fn(); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s %s allocates %.1f times, want 0", transport, op.name, allocs)
			}
		}
	}
}
