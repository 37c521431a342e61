package jobrpc

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/goimx/goim/rpc"
	"github.com/google/go-cmp/cmp"
)

func TestPushMsgRoundTrip(t *testing.T) {
	cases := []PushMsg{
		{Type: PushKeys, Op: 1000, Server: "comet-1", Keys: rpc.MakeStringList("a", "b"), Msg: []byte("hello"), Stamp: 1_700_000_000_123_456_789},
		{Type: PushRoom, Op: 1000, Room: "live://1000", Msg: []byte{}, Stamp: 1},
		{Type: PushAll, Op: -1, Speed: 100, Msg: make([]byte, 4096)},
	}
	for _, in := range cases {
		t.Run(in.Type.String(), func(t *testing.T) {
			b := in.Append(nil)
			var out PushMsg
			if err := out.Decode(b); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(in, out, cmp.Comparer(func(a, b []byte) bool { return string(a) == string(b) })); diff != "" {
				t.Fatalf("round trip (-in +out):\n%s", diff)
			}
			// A message of a sender without Stamp ends before it and
			// decodes with 0; every other prefix is an error.
			old := len(b) - len(binary.AppendVarint(nil, in.Stamp))
			for n := range len(b) {
				err := out.Decode(b[:n])
				if n == old {
					if err != nil || out.Stamp != 0 || out.Op != in.Op {
						t.Fatalf("message without Stamp: %v, %+v", err, out)
					}
				} else if err == nil {
					t.Fatalf("prefix %d/%d decoded", n, len(b))
				}
			}
		})
	}
}

func TestPushMsgBadType(t *testing.T) {
	for _, typ := range []PushType{0, 4, 255} {
		b := (&PushMsg{Type: typ}).Append(nil)
		if err := new(PushMsg).Decode(b); !errors.Is(err, rpc.ErrMalformed) {
			t.Errorf("type %d: got %v, want ErrMalformed", typ, err)
		}
	}
	if got := PushType(9).String(); got != "PushType(9)" {
		t.Errorf("String = %q", got)
	}
}

func FuzzPushMsgDecode(f *testing.F) {
	f.Add((&PushMsg{Type: PushKeys, Op: 1, Server: "s", Keys: rpc.MakeStringList("k"), Msg: []byte("m")}).Append(nil))
	f.Add((&PushMsg{Type: PushRoom, Room: "live://1"}).Append(nil))
	f.Add([]byte{3, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		var m PushMsg
		if err := m.Decode(p); err != nil {
			return
		}
		var again PushMsg
		if err := again.Decode(m.Append(nil)); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func BenchmarkPushMsg(b *testing.B) {
	msg := PushMsg{Type: PushRoom, Op: 1000, Room: "live://1000", Msg: make([]byte, 256)}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = msg.Append(buf[:0])
		var m PushMsg
		if err := m.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}
