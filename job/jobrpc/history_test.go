package jobrpc

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHistoryRoundTrip: the history request and reply survive encoding,
// and every strict prefix is refused.
func TestHistoryRoundTrip(t *testing.T) {
	type message interface {
		Append([]byte) []byte
		Decode([]byte) error
	}
	tests := []struct {
		name    string
		in, out message
	}{
		{"request", &HistoryReq{Room: "live://1", Epoch: 1<<32 - 1, After: 41}, new(HistoryReq)},
		{"reply", &HistoryReply{Epoch: 9, Last: 57, Complete: true, Packets: []byte{0, 0, 0, 16}}, new(HistoryReply)},
		{"reply refetch", &HistoryReply{Epoch: 9, Last: 57}, new(HistoryReply)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.in.Append(nil)
			if err := tt.out.Decode(b); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.in, tt.out); diff != "" {
				t.Fatalf("round trip (-in +out):\n%s", diff)
			}
			for n := range len(b) {
				if err := tt.out.Decode(b[:n]); err == nil {
					t.Fatalf("prefix %d/%d decoded", n, len(b))
				}
			}
		})
	}
}

// FuzzHistoryDecode: whatever decodes as a history request or reply
// encodes back to bytes that decode to the same value.
func FuzzHistoryDecode(f *testing.F) {
	f.Add((&HistoryReq{Room: "live://1", Epoch: 7, After: 41}).Append(nil))
	f.Add((&HistoryReply{Epoch: 9, Last: 57, Complete: true, Packets: []byte{0, 0, 0, 16}}).Append(nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, p []byte) {
		var req HistoryReq
		if req.Decode(p) == nil {
			var again HistoryReq
			if err := again.Decode(req.Append(nil)); err != nil || !cmp.Equal(req, again) {
				t.Fatalf("request re-decode: %v, %+v vs %+v", err, again, req)
			}
		}
		var rep HistoryReply
		if rep.Decode(p) == nil {
			var again HistoryReply
			if err := again.Decode(rep.Append(nil)); err != nil || !cmp.Equal(rep, again) {
				t.Fatalf("reply re-decode: %v, %+v vs %+v", err, again, rep)
			}
		}
	})
}
