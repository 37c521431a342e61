//go:build !race

package protocol_test

import (
	"testing"

	"github.com/goimx/goim/bufio"
	"github.com/goimx/goim/protocol"
)

// TestZeroAllocs pins the per-message codec paths at 0 allocations.
func TestZeroAllocs(t *testing.T) {
	p := protocol.Packet{Ver: 1, Op: protocol.OpSendMsg, Seq: 1, Body: body(100)}
	msg := p.Append(nil)
	_, batch := buildBatch(10, 0, 100)
	_, stream := streamOf(100, 0, 5)
	buf := make([]byte, 0, 4096)
	r := bufio.NewReaderSize(&loopReader{data: stream}, 4096)
	var out protocol.Packet
	tests := []struct {
		name string
		fn   func()
	}{
		{"Append", func() { buf = p.Append(buf[:0]) }},
		{"AppendHeartbeatReply", func() { buf = protocol.AppendHeartbeatReply(buf[:0], 1, 2) }},
		{"AppendPush", func() { buf = protocol.AppendPush(buf[:0], 1000, p.Body) }},
		{"AppendRawHeader", func() { buf = protocol.AppendRawHeader(buf[:0], 100) }},
		{"ReadFrom", func() { _ = out.ReadFrom(r, 0) }},
		{"Decode", func() { _ = out.Decode(msg, 0) }},
		{"NextPacket", func() {
			for rest := batch; len(rest) > 0; {
				_, rest, _ = protocol.NextPacket(rest, 0)
			}
		}},
		{"Packets", func() {
			for range protocol.Packets(batch, 0) {
			}
		}},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(1000, tt.fn); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", tt.name, n)
		}
	}
}
