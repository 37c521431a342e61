package protocol_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/goimx/goim/bufio"
	"github.com/goimx/goim/protocol"
)

func TestAppendKnownBytes(t *testing.T) {
	tests := []struct {
		name string
		p    protocol.Packet
		want string // hex
	}{
		{
			name: "auth",
			p:    protocol.Packet{Ver: 1, Op: protocol.OpAuth, Seq: 1, Body: []byte(`{"mid":1}`)},
			want: "00000019" + "0010" + "0001" + "00000007" + "00000001" + hex.EncodeToString([]byte(`{"mid":1}`)),
		},
		{
			name: "heartbeat empty body",
			p:    protocol.Packet{Ver: 1, Op: protocol.OpHeartbeat, Seq: 2},
			want: "00000010" + "0010" + "0001" + "00000002" + "00000002",
		},
		{
			name: "negative fields",
			p:    protocol.Packet{Ver: -1, Op: -2, Seq: math.MinInt32, Body: []byte{0xff}},
			want: "00000011" + "0010" + "ffff" + "fffffffe" + "80000000" + "ff",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Append([]byte("prefix"))
			if want := "prefix" + string(mustHex(t, tt.want)); string(got) != want {
				t.Fatalf("Append = %x, want %x", got, want)
			}
		})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// boundaryLens are body lengths around the default limit.
var boundaryLens = []int{0, 1, 15, 16, 17, protocol.DefaultMaxBody - 1, protocol.DefaultMaxBody, protocol.DefaultMaxBody + 1}

func TestDecodeRoundTrip(t *testing.T) {
	for _, n := range boundaryLens {
		for _, maxBody := range []int{0, -1, protocol.DefaultMaxBody, protocol.DefaultMaxBody + 1} {
			in := protocol.Packet{Ver: 1, Op: protocol.OpSendMsg, Seq: int32(n), Body: body(n)}
			msg := in.Append(nil)
			var out protocol.Packet
			err := out.Decode(msg, maxBody)
			limit := maxBody
			if limit <= 0 {
				limit = protocol.DefaultMaxBody
			}
			if n > limit {
				if !errors.Is(err, protocol.ErrBodyTooLarge) {
					t.Fatalf("body %d, maxBody %d: err = %v, want ErrBodyTooLarge", n, maxBody, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("body %d, maxBody %d: %v", n, maxBody, err)
			}
			if !equalPacket(out, in) {
				t.Fatalf("body %d, maxBody %d: got %+v", n, maxBody, out)
			}
			if n == 0 && out.Body != nil {
				t.Fatalf("empty body decoded as %v, want nil", out.Body)
			}
		}
	}
}

func TestDecodeBodyAliasesMessage(t *testing.T) {
	msg := validPacket(1, 4, 1, []byte("abc"))
	msg = append(msg, "spare capacity"...)[:len(msg)]
	var p protocol.Packet
	if err := p.Decode(msg, 0); err != nil {
		t.Fatal(err)
	}
	if &p.Body[0] != &msg[protocol.HeaderLen] {
		t.Fatal("Body does not alias the message")
	}
	if cap(p.Body) != len(p.Body) {
		t.Fatalf("cap(Body) = %d, want %d so that appends copy", cap(p.Body), len(p.Body))
	}
}

// malformed are packets every decoder must reject, with the error they wrap.
var malformed = []struct {
	name string
	msg  []byte
	want error
}{
	{"negative packLen", rawPacket(-1, 16, 1, 4, 0, nil), protocol.ErrPacketLen},
	{"min int32 packLen", rawPacket(math.MinInt32, 16, 1, 4, 0, nil), protocol.ErrPacketLen},
	{"zero packLen", rawPacket(0, 16, 1, 4, 0, nil), protocol.ErrPacketLen},
	{"packLen 15", rawPacket(15, 16, 1, 4, 0, nil), protocol.ErrPacketLen},
	{"packLen too large", rawPacket(16+protocol.DefaultMaxBody+1, 16, 1, 4, 0, body(protocol.DefaultMaxBody+1)), protocol.ErrBodyTooLarge},
	{"max int32 packLen", rawPacket(math.MaxInt32, 16, 1, 4, 0, nil), protocol.ErrBodyTooLarge},
	{"headerLen 15", rawPacket(16, 15, 1, 4, 0, nil), protocol.ErrHeaderLen},
	{"headerLen 17", rawPacket(17, 17, 1, 4, 0, []byte{1}), protocol.ErrHeaderLen},
	{"headerLen 0", rawPacket(16, 0, 1, 4, 0, nil), protocol.ErrHeaderLen},
	{"headerLen -1", rawPacket(16, -1, 1, 4, 0, nil), protocol.ErrHeaderLen},
}

func TestDecodeMalformed(t *testing.T) {
	tests := append([]struct {
		name string
		msg  []byte
		want error
	}{
		{"empty message", nil, protocol.ErrPacketLen},
		{"message of 15 bytes", validPacket(1, 4, 0, nil)[:15], protocol.ErrPacketLen},
		{"packLen longer than message", validPacket(1, 4, 0, []byte("abc"))[:18], protocol.ErrPacketLen},
		{"packLen shorter than message", append(validPacket(1, 4, 0, []byte("abc")), 'x'), protocol.ErrPacketLen},
		{"two packets in one message", append(validPacket(1, 4, 0, nil), validPacket(1, 4, 0, nil)...), protocol.ErrPacketLen},
	}, malformed...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := protocol.Packet{Ver: 9, Op: 9, Seq: 9}
			err := p.Decode(tt.msg, 0)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAppendReadFromRoundTrip(t *testing.T) {
	for _, n := range boundaryLens {
		in := protocol.Packet{Ver: 1, Op: protocol.OpSendMsgReply, Seq: 42, Body: body(n)}
		conn := bytes.NewBuffer(in.Append(nil))
		const maxBody = protocol.DefaultMaxBody + 1
		r := bufio.NewReaderSize(conn, protocol.HeaderLen+maxBody)
		var out protocol.Packet
		if err := out.ReadFrom(r, maxBody); err != nil {
			t.Fatalf("body %d: ReadFrom: %v", n, err)
		}
		if !equalPacket(out, in) {
			t.Fatalf("body %d: got %+v", n, out)
		}
		if err := out.ReadFrom(r, maxBody); err != io.EOF {
			t.Fatalf("body %d: ReadFrom at end = %v, want io.EOF", n, err)
		}
	}
}

func TestReadFromMalformed(t *testing.T) {
	for _, tt := range malformed {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReaderSize(bytes.NewReader(tt.msg), 8192)
			var p protocol.Packet
			if err := p.ReadFrom(r, 0); !errors.Is(err, tt.want) {
				t.Fatalf("ReadFrom err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReadFromStreamErrors(t *testing.T) {
	errBoom := errors.New("boom")
	full := validPacket(1, 4, 0, []byte("hello"))
	big := validPacket(1, 4, 0, body(18))
	tests := []struct {
		name string
		rd   io.Reader
		size int
		want error
	}{
		{"empty stream", bytes.NewReader(nil), 64, io.EOF},
		{"truncated header", bytes.NewReader(full[:7]), 64, io.ErrUnexpectedEOF},
		{"header only", bytes.NewReader(full[:16]), 64, io.ErrUnexpectedEOF},
		{"truncated body", bytes.NewReader(full[:18]), 64, io.ErrUnexpectedEOF},
		{"reader error", io.MultiReader(bytes.NewReader(full[:18]), &errReader{errBoom}), 64, errBoom},
		{"body fits reader buffer without header", bytes.NewReader(big), 18, nil},
		{"body larger than reader buffer", bytes.NewReader(big), 17, bufio.ErrBufferFull},
		{"no reader buffer", bytes.NewReader(full), 0, bufio.ErrNoBuffer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r bufio.Reader
			if tt.size > 0 {
				r = *bufio.NewReaderSize(tt.rd, tt.size)
			} else {
				r.Reset(tt.rd, nil)
			}
			var p protocol.Packet
			if err := p.ReadFrom(&r, 0); !errors.Is(err, tt.want) {
				t.Fatalf("ReadFrom err = %v, want %v", err, tt.want)
			}
		})
	}
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }
