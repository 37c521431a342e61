package protocol_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/goimx/goim/bufio"
	"github.com/goimx/goim/protocol"
)

// streamOf returns packets with the given body lengths and their bytes
// back to back, as on a TCP connection.
func streamOf(lens ...int) ([]protocol.Packet, []byte) {
	var stream []byte
	packets := make([]protocol.Packet, len(lens))
	for i, n := range lens {
		packets[i] = protocol.Packet{Ver: 1, Op: int32(1000 + i), Seq: int32(i), Body: body(n)}
		stream = packets[i].Append(stream)
	}
	return packets, stream
}

// readAll reads packets from rd, through a reader buffer of bufSize bytes,
// until an error and returns them (with copied bodies) and the error.
func readAll(rd io.Reader, bufSize, maxBody int) ([]protocol.Packet, error) {
	r := bufio.NewReaderSize(rd, bufSize)
	var out []protocol.Packet
	for {
		var p protocol.Packet
		if err := p.ReadFrom(r, maxBody); err != nil {
			return out, err
		}
		out = append(out, clonePacket(p))
	}
}

func TestReadFromSplitEverywhere(t *testing.T) {
	want, stream := streamOf(0, 1, 5, protocol.DefaultMaxBody, 0, protocol.DefaultMaxBody-1, 33)
	for _, bufSize := range []int{protocol.DefaultMaxBody, protocol.HeaderLen + protocol.DefaultMaxBody, 3 * protocol.DefaultMaxBody} {
		for i := 0; i <= len(stream); i++ {
			rd := &chunkReader{chunks: [][]byte{bytes.Clone(stream[:i]), bytes.Clone(stream[i:])}}
			got, err := readAll(rd, bufSize, 0)
			if err != io.EOF {
				t.Fatalf("buffer %d, split at %d: err = %v, want io.EOF", bufSize, i, err)
			}
			checkPackets(t, got, want)
		}
	}
}

func TestReadFromSmallReads(t *testing.T) {
	want, stream := streamOf(0, 1, 5, protocol.DefaultMaxBody, 0, 33)
	readers := []struct {
		name string
		rd   func() io.Reader
	}{
		{"byte by byte", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) }},
		{"half reads", func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) }},
		{"EOF with data", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(stream)) }},
		{"timeout then resume", func() io.Reader { return iotest.TimeoutReader(bytes.NewReader(stream)) }},
	}
	for _, tt := range readers {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(tt.rd(), protocol.HeaderLen+protocol.DefaultMaxBody, 0)
			if tt.name == "timeout then resume" {
				// The second Read times out; only whole packets before it are returned.
				if !errors.Is(err, iotest.ErrTimeout) {
					t.Fatalf("err = %v, want iotest.ErrTimeout", err)
				}
				return
			}
			if err != io.EOF {
				t.Fatalf("err = %v, want io.EOF", err)
			}
			checkPackets(t, got, want)
		})
	}
}

func TestReadFromTruncatedEverywhere(t *testing.T) {
	want, stream := streamOf(0, 1, 5, 33, 0)
	var ends []int // stream offsets where packets end
	off := 0
	for _, p := range want {
		off += protocol.HeaderLen + len(p.Body)
		ends = append(ends, off)
	}
	for i := 0; i <= len(stream); i++ {
		complete, boundary := 0, i == 0
		for _, end := range ends {
			if end <= i {
				complete++
				boundary = end == i
			}
		}
		wantErr := io.ErrUnexpectedEOF
		if boundary {
			wantErr = io.EOF
		}
		for _, byteByByte := range []bool{false, true} {
			var rd io.Reader = bytes.NewReader(stream[:i])
			if byteByByte {
				rd = iotest.OneByteReader(rd)
			}
			got, err := readAll(rd, 64, 0)
			if err != wantErr {
				t.Fatalf("cut at %d (byte by byte %v): err = %v, want %v", i, byteByByte, err, wantErr)
			}
			checkPackets(t, got, want[:complete])
		}
	}
}
