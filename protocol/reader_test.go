package protocol_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/goimx/goim/protocol"
)

// popRecorder is a protocol.Reader over a byte slice that records the size
// of every Pop.
type popRecorder struct {
	data []byte
	pops []int
}

func (r *popRecorder) Pop(n int) ([]byte, error) {
	r.pops = append(r.pops, n)
	if len(r.data) == 0 {
		return nil, io.EOF
	}
	if len(r.data) < n {
		r.data = nil
		return nil, io.ErrUnexpectedEOF
	}
	b := r.data[:n]
	r.data = r.data[n:]
	return b, nil
}

// TestReadFromPopContract pins the call pattern of ReadFrom that readers
// (the comet's connection) rely on: one Pop of HeaderLen, then one Pop of
// the whole body only for a valid header announcing a body.
func TestReadFromPopContract(t *testing.T) {
	withBody := (&protocol.Packet{Ver: 1, Op: protocol.OpHeartbeat, Body: []byte("body")}).Append(nil)
	empty := (&protocol.Packet{Ver: 1, Op: protocol.OpHeartbeat}).Append(nil)
	badLen := bytes.Clone(withBody)
	badLen[3] = 0xff // packLen no longer matches: over the limit
	tests := []struct {
		name     string
		in       []byte
		wantPops []int
		wantErr  bool
	}{
		{"body", withBody, []int{protocol.HeaderLen, 4}, false},
		{"empty body", empty, []int{protocol.HeaderLen}, false},
		{"bad header", badLen, []int{protocol.HeaderLen}, true},
		{"truncated body", withBody[:protocol.HeaderLen+2], []int{protocol.HeaderLen, 4}, true},
		{"end of stream", nil, []int{protocol.HeaderLen}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &popRecorder{data: tt.in}
			var p protocol.Packet
			err := p.ReadFrom(r, 100)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.name == "end of stream" && !errors.Is(err, io.EOF) {
				t.Fatalf("err = %v, want io.EOF", err)
			}
			if !slices.Equal(r.pops, tt.wantPops) {
				t.Fatalf("pops %v, want %v", r.pops, tt.wantPops)
			}
		})
	}
}
