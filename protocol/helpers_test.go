package protocol_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/goimx/goim/protocol"
)

// rawPacket builds packet bytes field by field, independently of the
// package's encoder, so that tests can craft malformed headers.
func rawPacket(packLen int32, headerLen, ver int16, op, seq int32, body []byte) []byte {
	b := make([]byte, 0, protocol.HeaderLen+len(body))
	b = binary.BigEndian.AppendUint32(b, uint32(packLen))
	b = binary.BigEndian.AppendUint16(b, uint16(headerLen))
	b = binary.BigEndian.AppendUint16(b, uint16(ver))
	b = binary.BigEndian.AppendUint32(b, uint32(op))
	b = binary.BigEndian.AppendUint32(b, uint32(seq))
	return append(b, body...)
}

// validPacket builds the bytes of a well-formed packet.
func validPacket(ver int16, op, seq int32, body []byte) []byte {
	return rawPacket(int32(protocol.HeaderLen+len(body)), protocol.HeaderLen, ver, op, seq, body)
}

// body returns n bytes of a recognisable pattern.
func body(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

// clonePacket returns p with a private copy of its body, so that it
// survives the next read from the buffer the body aliased.
func clonePacket(p protocol.Packet) protocol.Packet {
	p.Body = bytes.Clone(p.Body)
	return p
}

// equalPacket reports whether a and b have the same fields, treating a nil
// and an empty body alike.
func equalPacket(a, b protocol.Packet) bool {
	return a.Ver == b.Ver && a.Op == b.Op && a.Seq == b.Seq && bytes.Equal(a.Body, b.Body)
}

// checkPackets fails t unless got and want hold equal packets.
func checkPackets(t *testing.T, got, want []protocol.Packet) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range got {
		if !equalPacket(got[i], want[i]) {
			t.Fatalf("packet %d: got {ver %d op %d seq %d body %d bytes}, want {ver %d op %d seq %d body %d bytes}",
				i, got[i].Ver, got[i].Op, got[i].Seq, len(got[i].Body),
				want[i].Ver, want[i].Op, want[i].Seq, len(want[i].Body))
		}
	}
}

// chunkReader returns its data in the chunks given, one chunk per Read
// (or less when p is smaller), then io.EOF.
type chunkReader struct {
	chunks [][]byte
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	return n, nil
}

// loopReader returns data over and over, forever.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.off:])
		n += c
		r.off = (r.off + c) % len(r.data)
	}
	return n, nil
}
