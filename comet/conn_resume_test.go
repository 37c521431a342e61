package comet

import (
	"fmt"
	"slices"
	"testing"

	"github.com/goimx/goim/protocol"
)

// seqBatch returns a message holding one packet per seq, body "m<seq>".
func seqBatch(seqs ...uint32) []byte {
	var b []byte
	for _, s := range seqs {
		b = protocol.AppendPushSeq(b, 1000, s, fmt.Appendf(nil, "m%d", s))
	}
	return encodeBatch(b, 0)
}

// batchSeqs returns the seqs of the packets of message msg.
func batchSeqs(t *testing.T, msg []byte) []uint32 {
	t.Helper()
	var out []uint32
	for p, err := range protocol.Packets(msg[tcpOffset(msg):], 0) {
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("m%d", p.Seq); string(p.Body) != want {
			t.Fatalf("body %q, want %q", p.Body, want)
		}
		out = append(out, uint32(p.Seq))
	}
	return out
}

// TestCutThrough: a resuming connection drops the packets the history
// already gave, keeps the rest, and knows when the resume is over.
func TestCutThrough(t *testing.T) {
	tests := []struct {
		name string
		seqs []uint32
		last uint32
		want []uint32 // nil: dropped whole
		done bool
		same bool // msg returned as is
	}{
		{"all after", []uint32{5, 6}, 4, []uint32{5, 6}, true, true},
		{"all through", []uint32{3, 4}, 4, nil, false, false},
		{"straddles", []uint32{3, 4, 5, 6}, 4, []uint32{5, 6}, true, false},
		{"last only", []uint32{2, 3, 4, 5}, 4, []uint32{5}, true, false},
		{"single through", []uint32{4}, 4, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := seqBatch(tt.seqs...)
			got, done := cutThrough(msg, tt.last)
			if done != tt.done {
				t.Errorf("done = %v, want %v", done, tt.done)
			}
			if tt.want == nil {
				if got != nil {
					t.Fatalf("kept %v, want dropped", batchSeqs(t, got))
				}
				return
			}
			if s := batchSeqs(t, got); !slices.Equal(s, tt.want) {
				t.Errorf("kept %v, want %v", s, tt.want)
			}
			if same := &got[0] == &msg[0]; same != tt.same {
				t.Errorf("returned the message itself: %v, want %v", same, tt.same)
			}
		})
	}
}
