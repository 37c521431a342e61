package protocol_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/goimx/goim/protocol"
)

// fuzzSeeds are inputs for every fuzz target: valid packets, batches and
// each kind of malformed header.
func fuzzSeeds() [][]byte {
	_, batch := buildBatch(0, 1, 7)
	_, stream := streamOf(0, 5, 64)
	seeds := [][]byte{
		nil,
		validPacket(1, protocol.OpHeartbeat, 1, nil),
		validPacket(1, protocol.OpAuth, 2, []byte(`{"mid":1,"room_id":"live://1"}`)),
		protocol.AppendHeartbeatReply(nil, 3, 10),
		append(protocol.AppendRawHeader(nil, len(batch)), batch...),
		batch,
		stream,
		batch[:20],
	}
	for _, m := range malformed {
		seeds = append(seeds, m.msg)
	}
	return seeds
}

// isProtocolError reports whether err wraps one of the package's sentinels.
func isProtocolError(err error) bool {
	return errors.Is(err, protocol.ErrPacketLen) || errors.Is(err, protocol.ErrHeaderLen) ||
		errors.Is(err, protocol.ErrBodyTooLarge) || errors.Is(err, protocol.ErrTruncated)
}

func FuzzDecode(f *testing.F) {
	for i, s := range fuzzSeeds() {
		f.Add(s, uint16(i*100))
	}
	f.Fuzz(func(t *testing.T, msg []byte, maxBody uint16) {
		var p protocol.Packet
		err := p.Decode(msg, int(maxBody))
		if err != nil {
			if !isProtocolError(err) {
				t.Fatalf("Decode error %v wraps no protocol sentinel", err)
			}
			return
		}
		if again := p.Append(nil); !bytes.Equal(again, msg) {
			t.Fatalf("re-encoding %x differs from input %x", again, msg)
		}
	})
}

// batchOracle decodes data with NextPacket: the packets, then nil if data
// ended on a packet boundary or the error that stopped it.
func batchOracle(data []byte, maxBody int) ([]protocol.Packet, error) {
	var out []protocol.Packet
	for len(data) > 0 {
		p, rest, err := protocol.NextPacket(data, maxBody)
		if err != nil {
			return out, err
		}
		out = append(out, p)
		data = rest
	}
	return out, nil
}

func FuzzReadFrom(f *testing.F) {
	for i, s := range fuzzSeeds() {
		f.Add(s, uint8(i), uint16(i*300))
	}
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8, maxBody uint16) {
		limit := int(maxBody)
		if limit == 0 {
			limit = protocol.DefaultMaxBody
		}
		var rd io.Reader = bytes.NewReader(stream)
		if chunk%4 == 0 {
			rd = iotest.OneByteReader(rd)
		} else {
			rd = &chunkReader{chunks: splitEvery(stream, int(chunk))}
		}
		got, err := readAll(rd, max(protocol.HeaderLen, limit), limit)
		want, wantErr := batchOracle(stream, limit)
		checkPackets(t, got, want)
		switch {
		case wantErr == nil:
			if err != io.EOF {
				t.Fatalf("stream of whole packets: err = %v, want io.EOF", err)
			}
		case errors.Is(wantErr, protocol.ErrTruncated):
			if err != io.ErrUnexpectedEOF {
				t.Fatalf("truncated stream: err = %v, want io.ErrUnexpectedEOF", err)
			}
		default:
			if errors.Unwrap(wantErr) == nil || !errors.Is(err, errors.Unwrap(wantErr)) {
				t.Fatalf("err = %v, NextPacket's = %v", err, wantErr)
			}
		}
	})
}

// splitEvery cuts b into chunks of n bytes (n < 1 means 1).
func splitEvery(b []byte, n int) [][]byte {
	n = max(n, 1)
	var chunks [][]byte
	for len(b) > n {
		chunks = append(chunks, b[:n])
		b = b[n:]
	}
	return append(chunks, b)
}

func FuzzNextPacket(f *testing.F) {
	for i, s := range fuzzSeeds() {
		f.Add(s, uint16(i*100))
	}
	f.Fuzz(func(t *testing.T, batch []byte, maxBody uint16) {
		data := batch
		for len(data) > 0 {
			p, rest, err := protocol.NextPacket(data, int(maxBody))
			if err != nil {
				if !isProtocolError(err) {
					t.Fatalf("error %v wraps no protocol sentinel", err)
				}
				if len(rest) != len(data) {
					t.Fatalf("on error rest has %d bytes, want the %d of the input", len(rest), len(data))
				}
				return
			}
			used := len(data) - len(rest)
			if again := p.Append(nil); !bytes.Equal(again, data[:used]) {
				t.Fatalf("re-encoding %x differs from consumed bytes %x", again, data[:used])
			}
			data = rest
		}
	})
}
