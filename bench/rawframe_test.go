package bench

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
	"github.com/google/go-cmp/cmp"
)

// got is one packet seen by unitPackets.
type got struct {
	Op   int32
	Body string
}

// parseAll parses a whole stream unit by unit, as the epoll reader does
// when the stream arrives in one piece.
func parseAll(b []byte, ws bool) ([]got, error) {
	var out []got
	for len(b) > 0 {
		unit, op, used, _, err := nextUnit(b, ws)
		if err != nil {
			return out, err
		}
		if used == 0 {
			return out, fmt.Errorf("incomplete: %d bytes left", len(b))
		}
		if err := unitPackets(unit, op, func(op int32, body []byte) { out = append(out, got{op, string(body)}) }); err != nil {
			return out, err
		}
		b = b[used:]
	}
	return out, nil
}

func TestNextUnit(t *testing.T) {
	batch := append(packet(1000, 0, []byte("a")), packet(1001, 0, []byte("bc"))...)
	tcp := bytes.Join([][]byte{
		packet(1000, 0, []byte("one")),
		packet(protocol.OpRaw, 0, batch),
		packet(protocol.OpHeartbeatReply, 2, []byte{0, 0, 0, 5}),
	}, nil)
	ws := bytes.Join([][]byte{
		websocket.AppendFrame(nil, websocket.OpBinary, packet(1000, 0, []byte("one"))),
		websocket.AppendFrame(nil, websocket.OpPing, []byte("p")),
		websocket.AppendFrame(nil, websocket.OpBinary, packet(protocol.OpRaw, 0, batch)),
		websocket.AppendFrame(nil, websocket.OpBinary, packet(protocol.OpRaw, 0, bytes.Repeat(packet(1000, 0, []byte("z")), 10))),
	}, nil)
	want := []got{{1000, "one"}, {1000, "a"}, {1001, "bc"}, {protocol.OpHeartbeatReply, "\x00\x00\x00\x05"}}
	wantWS := append([]got{{1000, "one"}, {1000, "a"}, {1001, "bc"}}, repeatGot(got{1000, "z"}, 10)...)
	for _, tt := range []struct {
		name   string
		stream []byte
		ws     bool
		want   []got
	}{{"tcp", tcp, false, want}, {"ws", ws, true, wantWS}} {
		out, err := parseAll(tt.stream, tt.ws)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if d := cmp.Diff(tt.want, out); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
		// Every prefix is either complete units or asks for more bytes.
		for cut := range len(tt.stream) {
			_, _, used, need, err := nextUnit(tt.stream[:cut], tt.ws)
			if err != nil || (used == 0 && need <= cut) || used > cut {
				t.Fatalf("%s cut at %d: used %d need %d err %v", tt.name, cut, used, need, err)
			}
		}
	}
}

func repeatGot(g got, n int) []got {
	out := make([]got, n)
	for i := range out {
		out[i] = g
	}
	return out
}

func TestNextUnitErrors(t *testing.T) {
	masked := websocket.AppendMaskedFrame(nil, websocket.OpBinary, [4]byte{1, 2, 3, 4}, packet(1, 0, nil))
	fragment := append(websocket.AppendFrameHeader(nil, false, websocket.OpBinary, nil, 16), packet(1, 0, nil)...)
	tests := []struct {
		name   string
		stream []byte
		ws     bool
	}{
		{"short packet length", []byte{0, 0, 0, 8, 0, 16, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}, false},
		{"huge packet length", []byte{0x7f, 0, 0, 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}, false},
		{"bad header length", []byte{0, 0, 0, 16, 0, 9, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}, false},
		{"truncated batch", packet(protocol.OpRaw, 0, packet(1, 0, []byte("abc"))[:18]), false},
		{"masked frame", masked, true},
		{"fragment", fragment, true},
		{"text frame", websocket.AppendFrame(nil, websocket.OpText, []byte("hi")), true},
		{"close frame", websocket.AppendFrame(nil, websocket.OpClose, []byte{3, 232}), true},
		{"frame too short for a packet", websocket.AppendFrame(nil, websocket.OpBinary, []byte{1, 2}), true},
	}
	for _, tt := range tests {
		if _, err := parseAll(tt.stream, tt.ws); !errors.Is(err, ErrStream) {
			t.Errorf("%s: err %v, want ErrStream", tt.name, err)
		}
	}
}

// FuzzNextUnit parses arbitrary server bytes as the epoll reader does: no
// panic, no unit larger than the input, and progress or a clear need.
func FuzzNextUnit(f *testing.F) {
	f.Add(packet(1000, 0, []byte("x")), false)
	f.Add(packet(protocol.OpRaw, 0, append(packet(1, 0, nil), packet(2, 0, []byte("y"))...)), false)
	f.Add(websocket.AppendFrame(nil, websocket.OpBinary, packet(1000, 0, []byte("x"))), true)
	f.Add([]byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0, 1}, true)
	f.Fuzz(func(t *testing.T, b []byte, ws bool) {
		for len(b) > 0 {
			unit, op, used, need, err := nextUnit(b, ws)
			if err != nil {
				return
			}
			if used == 0 {
				if need <= len(b) {
					t.Fatalf("no unit in %d bytes, yet need %d", len(b), need)
				}
				return
			}
			if used > len(b) || len(unit) > used {
				t.Fatalf("unit of %d bytes, used %d of %d", len(unit), used, len(b))
			}
			if unitPackets(unit, op, func(int32, []byte) {}) != nil {
				return
			}
			b = b[used:]
		}
	})
}
