package rpc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

// rawHead builds the 11 header bytes with a given length field.
func rawHead(length uint32, kind byte, method uint16, seq uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, length)
	b = append(b, kind)
	b = binary.BigEndian.AppendUint16(b, method)
	return binary.BigEndian.AppendUint32(b, seq)
}

func TestAppendFrame(t *testing.T) {
	got := appendFrame([]byte("x"), header{kind: KindCall, method: 0x0102, seq: 0x03040506}, []byte("hi"))
	want := []byte{'x', 0, 0, 0, 9, 1, 1, 2, 3, 4, 5, 6, 'h', 'i'}
	if !bytes.Equal(got, want) {
		t.Fatalf("appendFrame = %v, want %v", got, want)
	}
}

func TestParseHead(t *testing.T) {
	const max = 100
	tests := []struct {
		name    string
		head    []byte
		want    header
		wantLen int
		wantErr error
	}{
		{"empty payload", rawHead(7, 1, 5, 9), header{KindCall, 5, 9}, 0, nil},
		{"reply", rawHead(8, 2, 0xffff, 0xffffffff), header{KindReply, 0xffff, 0xffffffff}, 1, nil},
		{"error", rawHead(10, 3, 0, 0), header{KindError, 0, 0}, 3, nil},
		{"oneway at max", rawHead(max, 4, 1, 0), header{KindOneway, 1, 0}, max - 7, nil},
		{"length 0", rawHead(0, 1, 0, 0), header{}, 0, ErrMalformedFrame},
		{"length 1", rawHead(1, 1, 0, 0), header{}, 0, ErrMalformedFrame},
		{"length 6", rawHead(6, 1, 0, 0), header{}, 0, ErrMalformedFrame},
		{"over max", rawHead(max+1, 1, 0, 0), header{}, 0, ErrFrameTooLarge},
		{"max uint32", rawHead(0xffffffff, 1, 0, 0), header{}, 0, ErrFrameTooLarge},
		{"kind 0", rawHead(7, 0, 0, 0), header{}, 0, ErrMalformedFrame},
		{"oneway error", rawHead(9, 5, 3, 4), header{KindOnewayError, 3, 4}, 2, nil},
		{"kind 6", rawHead(7, 6, 0, 0), header{}, 0, ErrMalformedFrame},
		{"kind 255", rawHead(7, 255, 0, 0), header{}, 0, ErrMalformedFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n, err := parseHead(tt.head, max)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if h != tt.want || n != tt.wantLen {
				t.Fatalf("got %+v len %d, want %+v len %d", h, n, tt.want, tt.wantLen)
			}
		})
	}
}

// testFrames are frames of boundary sizes around a 16-byte read buffer.
func testFrames() ([]header, [][]byte) {
	var hs []header
	var ps [][]byte
	for i, n := range []int{0, 1, 5, 15, 16, 17, 40, 300} {
		hs = append(hs, header{kind: Kind(i%5 + 1), method: uint16(i), seq: uint32(i * 1000)})
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(i + j)
		}
		ps = append(ps, p)
	}
	return hs, ps
}

func TestFrameReaderSplits(t *testing.T) {
	hs, ps := testFrames()
	var stream []byte
	for i := range hs {
		stream = appendFrame(stream, hs[i], ps[i])
	}
	readers := map[string]func() io.Reader{
		"whole":        func() io.Reader { return bytes.NewReader(stream) },
		"byte by byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"half reads":   func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) },
	}
	for name, mk := range readers {
		for _, size := range []int{16, 64, 4096} {
			fr := frameReader{r: bufio.NewReaderSize(mk(), size), maxFrame: 1 << 10}
			for i := range hs {
				h, p, err := fr.next()
				if err != nil {
					t.Fatalf("%s/%d: frame %d: %v", name, size, i, err)
				}
				if h != hs[i] || !bytes.Equal(p, ps[i]) {
					t.Fatalf("%s/%d: frame %d = %+v %v, want %+v %v", name, size, i, h, p, hs[i], ps[i])
				}
			}
			if _, _, err := fr.next(); err != io.EOF {
				t.Fatalf("%s/%d: after the last frame err = %v, want io.EOF", name, size, err)
			}
		}
	}
}

// TestFrameReaderSplitAtEveryByte feeds a two-frame stream in two halves
// split at every byte.
func TestFrameReaderSplitAtEveryByte(t *testing.T) {
	a := appendFrame(nil, header{KindCall, 1, 2}, []byte("first"))
	stream := appendFrame(a, header{KindOneway, 3, 0}, bytes.Repeat([]byte("z"), 20))
	for i := range len(stream) + 1 {
		r := io.MultiReader(bytes.NewReader(stream[:i]), bytes.NewReader(stream[i:]))
		fr := frameReader{r: bufio.NewReaderSize(r, 16), maxFrame: 100}
		h, p, err := fr.next()
		if err != nil || h != (header{KindCall, 1, 2}) || string(p) != "first" {
			t.Fatalf("split %d: first frame %+v %q %v", i, h, p, err)
		}
		h, p, err = fr.next()
		if err != nil || h != (header{KindOneway, 3, 0}) || len(p) != 20 {
			t.Fatalf("split %d: second frame %+v %q %v", i, h, p, err)
		}
	}
}

// TestFrameReaderTruncated cuts a frame at every byte: an empty stream is a
// clean io.EOF, anything else io.ErrUnexpectedEOF.
func TestFrameReaderTruncated(t *testing.T) {
	for _, payload := range []int{3, 40} {
		frame := appendFrame(nil, header{KindReply, 7, 8}, make([]byte, payload))
		for i := range len(frame) {
			fr := frameReader{r: bufio.NewReaderSize(bytes.NewReader(frame[:i]), 16), maxFrame: 100}
			_, _, err := fr.next()
			want := io.ErrUnexpectedEOF
			if i == 0 {
				want = io.EOF
			}
			if err != want {
				t.Fatalf("payload %d cut at %d: err = %v, want %v", payload, i, err, want)
			}
		}
	}
}

func TestFrameReaderBadHeader(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"short length", rawHead(3, 1, 0, 0), ErrMalformedFrame},
		{"too large", rawHead(1<<20, 1, 0, 0), ErrFrameTooLarge},
		{"unknown kind", rawHead(7, 9, 0, 0), ErrMalformedFrame},
		{"bad second frame", append(appendFrame(nil, header{KindCall, 1, 1}, nil), rawHead(2, 1, 0, 0)...), ErrMalformedFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := frameReader{r: bufio.NewReaderSize(bytes.NewReader(tt.in), 16), maxFrame: 100}
			var err error
			for err == nil {
				_, _, err = fr.next()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestFrameReaderReleasesBigScratch checks a huge frame's scratch buffer is
// not kept for the frames after it.
func TestFrameReaderReleasesBigScratch(t *testing.T) {
	stream := appendFrame(nil, header{KindCall, 1, 1}, make([]byte, maxScratch+1))
	stream = appendFrame(stream, header{KindCall, 1, 2}, []byte("x"))
	fr := frameReader{r: bufio.NewReaderSize(bytes.NewReader(stream), 16), maxFrame: 2 * maxScratch}
	if _, p, err := fr.next(); err != nil || len(p) != maxScratch+1 {
		t.Fatalf("big frame: len %d err %v", len(p), err)
	}
	if _, p, err := fr.next(); err != nil || string(p) != "x" {
		t.Fatalf("small frame: %q %v", p, err)
	}
	if cap(fr.scratch) > maxScratch {
		t.Fatalf("scratch of %d bytes kept", cap(fr.scratch))
	}
}

// FuzzReadFrame reads frames from arbitrary bytes: it must never panic, and
// every frame it returns must encode back to the bytes it came from.
func FuzzReadFrame(f *testing.F) {
	hs, ps := testFrames()
	var stream []byte
	for i := range hs {
		stream = appendFrame(stream, hs[i], ps[i])
	}
	f.Add(stream)
	f.Add([]byte{})
	f.Add(rawHead(7, 1, 0, 0))
	f.Add(rawHead(6, 1, 0, 0))
	f.Add(rawHead(7, 0, 0, 0))
	f.Add(rawHead(7, 5, 0, 0))
	f.Add(rawHead(7, 6, 0, 0))
	f.Add(appendFrame(nil, header{KindError, 1, 2}, appendErrorPayload(nil, ErrUnknownMethod)))
	f.Add(appendFrame(nil, header{KindOnewayError, 3, 7}, appendErrorPayload(nil, errors.New("plain"))))
	f.Add(rawHead(0xffffffff, 4, 0, 0))
	f.Add(append(rawHead(20, 4, 1, 0), 1, 2, 3))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxFrame = 1 << 12
		fr := frameReader{r: bufio.NewReaderSize(bytes.NewReader(data), 16), maxFrame: maxFrame}
		rest := data
		for {
			h, p, err := fr.next()
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF &&
					!errors.Is(err, ErrMalformedFrame) && !errors.Is(err, ErrFrameTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				if err == io.EOF && len(rest) != 0 {
					t.Fatalf("io.EOF with %d bytes left", len(rest))
				}
				return
			}
			enc := appendFrame(nil, h, p)
			if len(enc) > len(rest) || !bytes.Equal(enc, rest[:len(enc)]) {
				t.Fatalf("frame %+v %x does not match its input %x", h, p, rest)
			}
			if len(enc)-prefixLen > maxFrame {
				t.Fatalf("frame of %d bytes over the limit", len(enc))
			}
			rest = rest[len(enc):]
		}
	})
}

// FuzzErrorPayload parses arbitrary error frame payloads: it must never
// panic, must refuse exactly the payloads too short for a code, and what it
// parses must encode back to its input.
func FuzzErrorPayload(f *testing.F) {
	f.Add(appendErrorPayload(nil, ErrHandlerPanic))
	f.Add(appendErrorPayload(nil, fmt.Errorf("wrapped: %w", ErrTruncated)))
	f.Add(appendErrorPayload(nil, errors.New("no code")))
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		re, err := parseErrorPayload(9, p)
		if len(p) < errorCodeLen {
			if !errors.Is(err, ErrMalformedFrame) {
				t.Fatalf("payload %x: err = %v, want ErrMalformedFrame", p, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("payload %x: %v", p, err)
		}
		if re.Method != 9 || CodeOf(re) != re.Code {
			t.Fatalf("payload %x parsed as %+v", p, re)
		}
		if enc := appendErrorPayload(nil, re); !bytes.Equal(enc, p) {
			t.Fatalf("payload %x encodes back as %x", p, enc)
		}
	})
}

// TestErrorPayload pins the error payload of a few errors.
func TestErrorPayload(t *testing.T) {
	tests := []struct {
		err  error
		want []byte
	}{
		{ErrUnknownMethod, append([]byte{0, 1}, "rpc: unknown method"...)},
		{fmt.Errorf("ctx: %w", ErrMalformed), append([]byte{0, 5}, "ctx: rpc: payload malformed"...)},
		{errors.New("plain"), append([]byte{0, 0}, "plain"...)},
		{&RemoteError{Code: 300, Message: "relayed"}, append([]byte{1, 44}, "relayed"...)},
	}
	for _, tt := range tests {
		if got := appendErrorPayload(nil, tt.err); !bytes.Equal(got, tt.want) {
			t.Errorf("%v: payload %x, want %x", tt.err, got, tt.want)
		}
	}
}
