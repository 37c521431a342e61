package protocol_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/goimx/goim/protocol"
)

func TestAppendHeartbeatReply(t *testing.T) {
	tests := []struct {
		seq, online int32
		want        string
	}{
		{7, 3, "00000014" + "0010" + "0001" + "00000003" + "00000007" + "00000003"},
		{0, 0, "00000014" + "0010" + "0001" + "00000003" + "00000000" + "00000000"},
		{-1, math.MaxInt32, "00000014" + "0010" + "0001" + "00000003" + "ffffffff" + "7fffffff"},
	}
	for _, tt := range tests {
		got := protocol.AppendHeartbeatReply(nil, tt.seq, tt.online)
		if want := mustHex(t, tt.want); !bytes.Equal(got, want) {
			t.Fatalf("AppendHeartbeatReply(%d, %d) = %x, want %x", tt.seq, tt.online, got, want)
		}
	}
}

func TestAppendPush(t *testing.T) {
	got := protocol.AppendPush([]byte{0xaa}, 1000, []byte("hi"))
	want := mustHex(t, "aa"+"00000012"+"0010"+"0001"+"000003e8"+"00000000"+"6869")
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendPush = %x, want %x", got, want)
	}
	p := protocol.Packet{Ver: protocol.Version, Op: 1000, Body: []byte("hi")}
	if want := p.Append([]byte{0xaa}); !bytes.Equal(got, want) {
		t.Fatalf("AppendPush = %x, Packet.Append = %x", got, want)
	}
}

func TestAppendRawHeader(t *testing.T) {
	got := protocol.AppendRawHeader(nil, 34)
	want := mustHex(t, "00000032"+"0010"+"0001"+"00000009"+"00000000")
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendRawHeader(34) = %x, want %x", got, want)
	}
}

// buildBatch returns the pushes and the batch body that concatenates them.
func buildBatch(lens ...int) ([]protocol.Packet, []byte) {
	var batch []byte
	pushes := make([]protocol.Packet, len(lens))
	for i, n := range lens {
		pushes[i] = protocol.Packet{Ver: protocol.Version, Op: int32(2000 + i), Body: body(n)}
		batch = protocol.AppendPush(batch, pushes[i].Op, pushes[i].Body)
	}
	return pushes, batch
}

func TestWebSocketBatchRoundTrip(t *testing.T) {
	for _, lens := range [][]int{{0}, {5}, {0, 1, 4096, 3}, {4096, 4096, 4096}} {
		pushes, batch := buildBatch(lens...)
		frame := protocol.AppendRawHeader(nil, len(batch))
		frame = append(frame, batch...)

		var outer protocol.Packet
		if err := outer.Decode(frame, len(batch)); err != nil {
			t.Fatalf("%v: Decode outer: %v", lens, err)
		}
		if outer.Op != protocol.OpRaw || outer.Ver != protocol.Version || outer.Seq != 0 {
			t.Fatalf("%v: outer = {ver %d op %d seq %d}, want {1 9 0}", lens, outer.Ver, outer.Op, outer.Seq)
		}
		var got []protocol.Packet
		for p, err := range protocol.Packets(outer.Body, 0) {
			if err != nil {
				t.Fatalf("%v: Packets: %v", lens, err)
			}
			got = append(got, p)
		}
		checkPackets(t, got, pushes)

		got = got[:0]
		for rest := outer.Body; len(rest) > 0; {
			var p protocol.Packet
			var err error
			if p, rest, err = protocol.NextPacket(rest, 0); err != nil {
				t.Fatalf("%v: NextPacket: %v", lens, err)
			}
			got = append(got, p)
		}
		checkPackets(t, got, pushes)
	}
}

func TestNextPacketMalformed(t *testing.T) {
	_, two := buildBatch(3, 4)
	tests := append([]struct {
		name string
		msg  []byte
		want error
	}{
		{"empty", nil, protocol.ErrTruncated},
		{"mid header", two[:5], protocol.ErrTruncated},
		{"header only", two[:16], protocol.ErrTruncated},
		{"mid body", two[:18], protocol.ErrTruncated},
	}, malformed...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, rest, err := protocol.NextPacket(tt.msg, 0)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !equalPacket(p, protocol.Packet{}) || len(rest) != len(tt.msg) {
				t.Fatalf("on error got packet %+v and %d bytes rest, want zero packet and the input", p, len(rest))
			}
		})
	}
}

func TestPacketsTruncatedBatch(t *testing.T) {
	pushes, batch := buildBatch(3, 0, 7)
	cuts := []struct {
		name  string
		at    int
		whole int // packets yielded before the error
	}{
		{"second packet mid header", 19 + 8, 1},
		{"third packet mid body", 19 + 16 + 16 + 2, 2},
		{"third packet header only", 19 + 16 + 16, 2},
	}
	for _, tt := range cuts {
		t.Run(tt.name, func(t *testing.T) {
			var got []protocol.Packet
			var errs []error
			for p, err := range protocol.Packets(batch[:tt.at], 0) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				got = append(got, p)
			}
			checkPackets(t, got, pushes[:tt.whole])
			if len(errs) != 1 || !errors.Is(errs[0], protocol.ErrTruncated) {
				t.Fatalf("errors = %v, want one ErrTruncated", errs)
			}
		})
	}
}

func TestPacketsEarlyBreakAndReuse(t *testing.T) {
	pushes, batch := buildBatch(1, 2, 3)
	seq := protocol.Packets(batch, 0)
	for range seq {
		break
	}
	n := 0
	for p, err := range seq {
		if err != nil || !equalPacket(p, pushes[n]) {
			t.Fatalf("second range, packet %d: %+v, %v", n, p, err)
		}
		n++
	}
	if n != len(pushes) {
		t.Fatalf("second range yielded %d packets, want %d", n, len(pushes))
	}
	for range protocol.Packets(nil, 0) {
		t.Fatal("empty batch yielded a packet")
	}
}

func TestNextPacketBodyCapacity(t *testing.T) {
	_, batch := buildBatch(3, 4)
	p, rest, err := protocol.NextPacket(batch, 0)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(p.Body, 'x')
	if q, _, err := protocol.NextPacket(rest, 0); err != nil || q.Op != 2001 {
		t.Fatalf("appending to a body changed the next packet: %+v, %v", q, err)
	}
}
