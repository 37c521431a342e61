package cometrpc

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/goimx/goim/rpc"
)

type message interface {
	Append([]byte) []byte
	Decode([]byte) error
}

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name    string
		in, out message
		stamp   int64 // in's Stamp
	}{
		{"keys", &PushKeysReq{Op: 1000, Keys: rpc.MakeStringList("a", "bb"), Body: []byte("x"), Stamp: 1_700_000_000_123_456_789}, new(PushKeysReq), 1_700_000_000_123_456_789},
		{"room", &BroadcastRoomReq{RoomID: "live://1", Batch: []byte{0, 0, 0, 16}, Stamp: 300}, new(BroadcastRoomReq), 300},
		{"all", &BroadcastReq{Op: 5, Speed: 1000, Body: []byte("y")}, new(BroadcastReq), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.in.Append(nil)
			if err := tc.out.Decode(b); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tc.in, tc.out); diff != "" {
				t.Fatalf("(-in +out):\n%s", diff)
			}
			// A request of a sender without Stamp ends before it and
			// decodes; every other prefix is an error.
			old := len(b) - len(binary.AppendVarint(nil, tc.stamp))
			for n := range len(b) {
				if err := tc.out.Decode(b[:n]); (err == nil) != (n == old) {
					t.Fatalf("prefix %d/%d (without Stamp at %d): %v", n, len(b), old, err)
				}
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add((&PushKeysReq{Op: 1, Keys: rpc.MakeStringList("k"), Body: []byte("b")}).Append(nil))
	f.Add((&BroadcastRoomReq{RoomID: "r", Batch: []byte("b")}).Append(nil))
	f.Add((&BroadcastReq{Op: 1, Speed: 2, Body: []byte("b")}).Append(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		for _, m := range []message{new(PushKeysReq), new(BroadcastRoomReq), new(BroadcastReq)} {
			if m.Decode(p) == nil {
				if err := m.Decode(m.Append(nil)); err != nil {
					t.Fatalf("%T re-decode: %v", m, err)
				}
			}
		}
	})
}

func BenchmarkBroadcastRoomDecode(b *testing.B) {
	p := (&BroadcastRoomReq{RoomID: "live://1000", Batch: make([]byte, 512)}).Append(nil)
	b.ReportAllocs()
	var m BroadcastRoomReq
	for b.Loop() {
		if err := m.Decode(p); err != nil {
			b.Fatal(err)
		}
	}
}
