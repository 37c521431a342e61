package websocket

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
	"testing/iotest"
)

// TestRFCExampleFrames checks the examples of RFC 6455 section 5.7.
func TestRFCExampleFrames(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"unmasked text Hello", AppendFrame(nil, OpText, []byte("Hello")),
			[]byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"masked text Hello", AppendMaskedFrame(nil, OpText, testKey, []byte("Hello")),
			[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"first fragment Hel", append(AppendFrameHeader(nil, false, OpText, nil, 3), "Hel"...),
			[]byte{0x01, 0x03, 0x48, 0x65, 0x6c}},
		{"last fragment lo", append(AppendFrameHeader(nil, true, OpContinuation, nil, 2), "lo"...),
			[]byte{0x80, 0x02, 0x6c, 0x6f}},
		{"unmasked ping Hello", AppendFrame(nil, OpPing, []byte("Hello")),
			[]byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"256 bytes binary header", AppendFrameHeader(nil, true, OpBinary, nil, 256),
			[]byte{0x82, 0x7E, 0x01, 0x00}},
		{"64 KiB binary header", AppendFrameHeader(nil, true, OpBinary, nil, 65536),
			[]byte{0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}},
	}
	for _, tt := range tests {
		if !bytes.Equal(tt.got, tt.want) {
			t.Errorf("%s: got % x, want % x", tt.name, tt.got, tt.want)
		}
	}
}

func TestFrameHeaderRoundTrip(t *testing.T) {
	lengths := []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 32, math.MaxInt64}
	wantSize := map[int]int{0: 2, 1: 2, 125: 2, 126: 4, 127: 4, 65535: 4, 65536: 10, 1 << 32: 10, math.MaxInt64: 10}
	ops := []Opcode{OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong}
	for _, n := range lengths {
		for _, op := range ops {
			for _, fin := range []bool{true, false} {
				for _, key := range []*[4]byte{nil, &testKey} {
					b := AppendFrameHeader([]byte("prefix"), fin, op, key, n)
					b = b[len("prefix"):]
					size := wantSize[n]
					if key != nil {
						size += 4
					}
					if len(b) != size {
						t.Fatalf("len %d: header size %d, want %d", n, len(b), size)
					}
					want := FrameHeader{Fin: fin, Op: op, Masked: key != nil, Length: int64(n)}
					if key != nil {
						want.Key = *key
					}
					h, hn, err := ParseFrameHeader(b)
					if err != nil || hn != size || h != want {
						t.Fatalf("ParseFrameHeader(% x) = %+v, %d, %v; want %+v", b, h, hn, err, want)
					}
					var scratch [MaxFrameHeaderSize]byte
					h, err = ReadFrameHeader(iotest.OneByteReader(bytes.NewReader(b)), &scratch)
					if err != nil || h != want {
						t.Fatalf("ReadFrameHeader(% x) = %+v, %v; want %+v", b, h, err, want)
					}
				}
			}
		}
	}
}

func TestParseFrameHeaderShort(t *testing.T) {
	full := AppendFrameHeader(nil, true, OpBinary, &testKey, 70000) // 14 bytes
	for i := range len(full) {
		_, n, err := ParseFrameHeader(full[:i])
		want := 14
		if i < 2 {
			want = 2
		}
		if !errors.Is(err, ErrShortHeader) || n != want {
			t.Errorf("ParseFrameHeader(%d bytes) = %d, %v; want %d, ErrShortHeader", i, n, err, want)
		}
	}
}

func TestParseFrameHeaderBits(t *testing.T) {
	h, _, err := ParseFrameHeader([]byte{0xF3, 0x00}) // FIN, RSV1-3, opcode 3
	if err != nil || !h.Fin || h.RSV != 7 || h.Op != 3 {
		t.Errorf("got %+v, %v", h, err)
	}
	_, _, err = ParseFrameHeader([]byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0})
	if !errors.Is(err, ErrFrameTooLong) {
		t.Errorf("MSB length: got %v, want ErrFrameTooLong", err)
	}
}

func TestReadFrameHeaderEOF(t *testing.T) {
	var scratch [MaxFrameHeaderSize]byte
	if _, err := ReadFrameHeader(bytes.NewReader(nil), &scratch); err != io.EOF {
		t.Errorf("empty: got %v, want io.EOF", err)
	}
	if _, err := ReadFrameHeader(bytes.NewReader([]byte{0x82, 0x7E, 0x01}), &scratch); err != io.ErrUnexpectedEOF {
		t.Errorf("cut: got %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestAppendFrameHeaderNegativePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a negative length")
		}
	}()
	AppendFrameHeader(nil, true, OpBinary, nil, -1)
}

func TestOpcodeString(t *testing.T) {
	for op, want := range map[Opcode]string{OpText: "text", OpPong: "pong", 3: "opcode(3)"} {
		if got := op.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", op, got, want)
		}
	}
	if OpBinary.IsControl() || !OpPing.IsControl() || !Opcode(0xB).IsControl() {
		t.Error("IsControl wrong")
	}
}
