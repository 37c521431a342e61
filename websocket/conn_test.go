package websocket

import (
	"bytes"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// message is one expected ReadMessage result.
type message struct {
	op      Opcode
	payload string
}

// readAll reads messages until an error and returns them with the error.
func readAll(c *Conn) ([]message, error) {
	var out []message
	buf := make([]byte, 0, 16)
	for {
		op, msg, err := c.ReadMessage(buf[:0])
		if err != nil {
			return out, err
		}
		out = append(out, message{op, string(msg)})
		buf = msg
	}
}

// concat joins frames into one stream.
func concat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// boundaryStream returns client frames at boundary lengths and the messages
// they carry.
func boundaryStream() ([]byte, []message) {
	var stream []byte
	var want []message
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 100000} {
		p := strings.Repeat("a", n)
		if n%2 == 1 {
			p = strings.Repeat("\u00e9", n/2) + "z" // 2-byte runes, valid UTF-8
		}
		op := OpText
		if n%3 == 0 {
			op = OpBinary
		}
		stream = append(stream, clientFrame(true, op, []byte(p))...)
		want = append(want, message{op, p})
	}
	return stream, want
}

func TestReadMessageBoundaryLengths(t *testing.T) {
	stream, want := boundaryStream()
	readers := map[string]func() io.Reader{
		"whole":      func() io.Reader { return bytes.NewReader(stream) },
		"byte":       func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"7 bytes":    func() io.Reader { return &chunkReader{data: stream, size: 7} },
		"data error": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(stream)) },
	}
	for name, r := range readers {
		t.Run(name, func(t *testing.T) {
			c := NewServerConn(&fakeConn{r: r()}, nil, ConnConfig{MaxMessageSize: 1 << 20})
			got, err := readAll(c)
			if err != io.EOF {
				t.Fatalf("final error %v, want io.EOF", err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %d messages, want %d (or contents differ)", len(got), len(want))
			}
		})
	}
}

// TestReadMessageSplitEverywhere cuts a stream of small frames, control
// frames included, at every offset.
func TestReadMessageSplitEverywhere(t *testing.T) {
	stream := concat(
		clientFrame(true, OpText, []byte("hi")),
		clientFrame(true, OpPing, []byte("p")),
		clientFrame(false, OpBinary, []byte("frag")),
		clientFrame(true, OpPong, nil),
		clientFrame(true, OpContinuation, []byte("mented")),
		clientFrame(true, OpBinary, bytes.Repeat([]byte{7}, 300)),
		clientFrame(true, OpText, nil),
	)
	want := []message{{OpText, "hi"}, {OpBinary, "fragmented"}, {OpBinary, strings.Repeat("\x07", 300)}, {OpText, ""}}
	for cut := range len(stream) + 1 {
		fc := &fakeConn{r: &chunkReader{data: stream, cuts: []int{cut}}}
		got, err := readAll(NewServerConn(fc, nil, ConnConfig{}))
		if err != io.EOF || !slices.Equal(got, want) {
			t.Fatalf("cut %d: got %v, %v", cut, got, err)
		}
		if pongs := parseFrames(t, fc.w.Bytes()); len(pongs) != 1 || pongs[0].h.Op != OpPong || string(pongs[0].payload) != "p" {
			t.Fatalf("cut %d: wrote %v, want one pong \"p\"", cut, pongs)
		}
	}
}

// TestReadMessageFragmented splits text and binary messages into many frames
// with a ping between fragments.
func TestReadMessageFragmented(t *testing.T) {
	text := strings.Repeat("héllo wörld ", 50) // multi-byte runes cut across frames
	bin := bytes.Repeat([]byte{0, 1, 2, 0xff}, 300)
	var stream []byte
	for _, m := range []struct {
		op Opcode
		p  []byte
	}{{OpText, []byte(text)}, {OpBinary, bin}} {
		for i, piece := range chunks(m.p, 37) {
			op := OpContinuation
			if i == 0 {
				op = m.op
			}
			if i == 3 {
				stream = append(stream, clientFrame(true, OpPing, []byte("are you there"))...)
			}
			last := (i+1)*37 >= len(m.p)
			stream = append(stream, clientFrame(last, op, piece)...)
		}
	}
	fc := &fakeConn{r: bytes.NewReader(stream)}
	got, err := readAll(NewServerConn(fc, nil, ConnConfig{}))
	want := []message{{OpText, text}, {OpBinary, string(bin)}}
	if err != io.EOF || !slices.Equal(got, want) {
		t.Fatalf("got %d messages, %v", len(got), err)
	}
	frames := parseFrames(t, fc.w.Bytes())
	if len(frames) != 2 {
		t.Fatalf("wrote %d frames, want 2 pongs", len(frames))
	}
	for _, f := range frames {
		if f.h.Op != OpPong || f.h.Masked || !f.h.Fin || string(f.payload) != "are you there" {
			t.Errorf("reply %+v %q, want an unmasked pong echoing the ping", f.h, f.payload)
		}
	}
}

// chunks splits b into pieces of n bytes.
func chunks(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}

// TestReadMessageAppends: the message is appended to dst.
func TestReadMessageAppends(t *testing.T) {
	fc := &fakeConn{r: bytes.NewReader(clientFrame(true, OpBinary, []byte("world")))}
	op, msg, err := NewServerConn(fc, nil, ConnConfig{}).ReadMessage([]byte("hello "))
	if err != nil || op != OpBinary || string(msg) != "hello world" {
		t.Errorf("got %v %q %v", op, msg, err)
	}
}

func TestPingPongClientRole(t *testing.T) {
	stream := concat(serverFrame(true, OpPing, []byte("tick")), serverFrame(true, OpText, []byte("data")))
	fc := &fakeConn{r: bytes.NewReader(stream)}
	got, err := readAll(NewClientConn(fc, nil, ConnConfig{}))
	if err != io.EOF || !slices.Equal(got, []message{{OpText, "data"}}) {
		t.Fatalf("got %v, %v", got, err)
	}
	frames := parseFrames(t, fc.w.Bytes())
	if len(frames) != 1 || frames[0].h.Op != OpPong || !frames[0].h.Masked || string(frames[0].payload) != "tick" {
		t.Fatalf("wrote %+v, want one masked pong \"tick\"", frames)
	}
}

func TestCloseHandshake(t *testing.T) {
	tests := []struct {
		name      string
		client    bool
		payload   []byte
		wantCode  uint16
		reason    string
		wantReply []byte
	}{
		{"server, code and reason", false, closePayload(CloseGoingAway, "bye"), CloseGoingAway, "bye", closePayload(CloseGoingAway, "")},
		{"server, private code", false, closePayload(4000, ""), 4000, "", closePayload(4000, "")},
		{"server, no code", false, nil, CloseNoStatus, "", nil},
		{"client, normal", true, closePayload(CloseNormal, "done"), CloseNormal, "done", closePayload(CloseNormal, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []byte
			if tt.client {
				in = serverFrame(true, OpClose, tt.payload)
			} else {
				in = clientFrame(true, OpClose, tt.payload)
			}
			fc := &fakeConn{r: bytes.NewReader(in)}
			c := newConn(fc, tt.client, nil, ConnConfig{})
			_, _, err := c.ReadMessage(nil)
			var cerr *CloseError
			if !errors.As(err, &cerr) || cerr.Code != tt.wantCode || cerr.Reason != tt.reason {
				t.Fatalf("err = %v, want CloseError{%d, %q}", err, tt.wantCode, tt.reason)
			}
			frames := parseFrames(t, fc.w.Bytes())
			if len(frames) != 1 || frames[0].h.Op != OpClose || frames[0].h.Masked != tt.client ||
				!bytes.Equal(frames[0].payload, tt.wantReply) {
				t.Fatalf("reply %+v, want close % x", frames, tt.wantReply)
			}
			if _, _, err2 := c.ReadMessage(nil); err2 != err {
				t.Errorf("second ReadMessage = %v, want the same error", err2)
			}
			if err := c.WriteMessage(OpText, []byte("late")); err != ErrCloseSent {
				t.Errorf("write after close: %v, want ErrCloseSent", err)
			}
		})
	}
}

// TestCloseInitiatedLocally: after WriteClose, reading continues to the
// peer's close frame and it is not answered again.
func TestCloseInitiatedLocally(t *testing.T) {
	in := concat(clientFrame(true, OpText, []byte("in flight")), clientFrame(true, OpClose, closePayload(CloseNormal, "")))
	fc := &fakeConn{r: bytes.NewReader(in)}
	c := NewServerConn(fc, nil, ConnConfig{})
	if err := c.WriteClose(CloseGoingAway, "restart"); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteClose(CloseNormal, ""); err != ErrCloseSent {
		t.Errorf("second WriteClose: %v, want ErrCloseSent", err)
	}
	got, err := readAll(c)
	var cerr *CloseError
	if !errors.As(err, &cerr) || cerr.Code != CloseNormal || !slices.Equal(got, []message{{OpText, "in flight"}}) {
		t.Fatalf("got %v, %v", got, err)
	}
	frames := parseFrames(t, fc.w.Bytes())
	if len(frames) != 1 || !bytes.Equal(frames[0].payload, closePayload(CloseGoingAway, "restart")) {
		t.Fatalf("wrote %+v, want only our close", frames)
	}
}

func TestWriteCloseArguments(t *testing.T) {
	tests := []struct {
		code   uint16
		reason string
		err    error
	}{
		{CloseNoStatus, "", nil},
		{CloseNormal, strings.Repeat("r", 123), nil},
		{CloseNormal, strings.Repeat("r", 124), ErrControlTooLong},
		{CloseNoStatus, "why", ErrControlTooLong},
		{CloseAbnormal, "", ErrBadCloseCode},
		{999, "", ErrBadCloseCode},
		{5000, "", ErrBadCloseCode},
		{CloseNormal, "\xff", ErrInvalidUTF8},
	}
	for _, tt := range tests {
		c := NewServerConn(&fakeConn{r: bytes.NewReader(nil)}, nil, ConnConfig{})
		if err := c.WriteClose(tt.code, tt.reason); !errors.Is(err, tt.err) {
			t.Errorf("WriteClose(%d, %d bytes) = %v, want %v", tt.code, len(tt.reason), err, tt.err)
		}
	}
}

func TestMaxMessageSize(t *testing.T) {
	tests := []struct {
		name   string
		stream []byte
		ok     bool
	}{
		{"at limit", clientFrame(true, OpBinary, make([]byte, 100)), true},
		{"one frame over", clientFrame(true, OpBinary, make([]byte, 101)), false},
		{"fragments at limit", concat(clientFrame(false, OpBinary, make([]byte, 60)),
			clientFrame(true, OpContinuation, make([]byte, 40))), true},
		{"fragments over", concat(clientFrame(false, OpBinary, make([]byte, 60)),
			clientFrame(true, OpContinuation, make([]byte, 41))), false},
		// A huge announced length is refused before anything is buffered.
		{"huge header", AppendFrameHeader(nil, true, OpBinary, &testKey, 1<<40), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := &fakeConn{r: bytes.NewReader(tt.stream)}
			_, _, err := NewServerConn(fc, nil, ConnConfig{MaxMessageSize: 100}).ReadMessage(nil)
			if tt.ok {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrMessageTooBig) {
				t.Fatalf("err = %v, want ErrMessageTooBig", err)
			}
			wantClose(t, fc, CloseMessageTooBig)
		})
	}
}

// wantClose checks that the only frame written is a close with code.
func wantClose(t *testing.T, fc *fakeConn, code uint16) {
	t.Helper()
	frames := parseFrames(t, fc.w.Bytes())
	if len(frames) != 1 || frames[0].h.Op != OpClose || !bytes.Equal(frames[0].payload, closePayload(code, "")) {
		t.Fatalf("wrote %+v, want one close %d", frames, code)
	}
}

func TestProtocolViolations(t *testing.T) {
	textFrag := clientFrame(false, OpText, []byte("a"))
	tests := []struct {
		name   string
		client bool // Conn in the client role; frames come from a server
		stream []byte
		err    error
		code   uint16
	}{
		{"unmasked client frame", false, serverFrame(true, OpText, []byte("x")), ErrProtocol, CloseProtocolError},
		{"masked server frame", true, clientFrame(true, OpText, []byte("x")), ErrProtocol, CloseProtocolError},
		{"RSV1", false, withByte0(clientFrame(true, OpText, nil), 0x40), ErrProtocol, CloseProtocolError},
		{"RSV3", false, withByte0(clientFrame(true, OpBinary, nil), 0x10), ErrProtocol, CloseProtocolError},
		{"reserved data opcode", false, clientFrame(true, 3, nil), ErrProtocol, CloseProtocolError},
		{"reserved control opcode", false, clientFrame(true, 0xB, nil), ErrProtocol, CloseProtocolError},
		{"fragmented ping", false, clientFrame(false, OpPing, nil), ErrProtocol, CloseProtocolError},
		{"ping of 126 bytes", false, clientFrame(true, OpPing, make([]byte, 126)), ErrProtocol, CloseProtocolError},
		{"close of 126 bytes", false, clientFrame(true, OpClose, make([]byte, 126)), ErrProtocol, CloseProtocolError},
		{"lone continuation", false, clientFrame(true, OpContinuation, []byte("x")), ErrProtocol, CloseProtocolError},
		{"text inside fragments", false, concat(textFrag, clientFrame(true, OpText, nil)), ErrProtocol, CloseProtocolError},
		{"binary inside fragments", false, concat(textFrag, clientFrame(true, OpBinary, nil)), ErrProtocol, CloseProtocolError},
		{"length MSB set", false, []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, ErrProtocol, CloseProtocolError},
		{"invalid UTF-8 text", false, clientFrame(true, OpText, []byte("ok\xffno")), ErrInvalidUTF8, CloseInvalidPayload},
		{"invalid UTF-8 over fragments", false, concat(clientFrame(false, OpText, []byte("\xe2\x82")),
			clientFrame(true, OpContinuation, []byte("x"))), ErrInvalidUTF8, CloseInvalidPayload},
		{"close of 1 byte", false, clientFrame(true, OpClose, []byte{3}), ErrProtocol, CloseProtocolError},
		{"close code 1005", false, clientFrame(true, OpClose, closePayload(CloseNoStatus, "")), ErrProtocol, CloseProtocolError},
		{"close code 1006", false, clientFrame(true, OpClose, closePayload(CloseAbnormal, "")), ErrProtocol, CloseProtocolError},
		{"close code 999", false, clientFrame(true, OpClose, closePayload(999, "")), ErrProtocol, CloseProtocolError},
		{"close code 2000", false, clientFrame(true, OpClose, closePayload(2000, "")), ErrProtocol, CloseProtocolError},
		{"close code 5000", false, clientFrame(true, OpClose, closePayload(5000, "")), ErrProtocol, CloseProtocolError},
		{"close reason not UTF-8", false, clientFrame(true, OpClose, closePayload(CloseNormal, "\xc3")), ErrInvalidUTF8, CloseInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := &fakeConn{r: bytes.NewReader(tt.stream)}
			c := newConn(fc, tt.client, nil, ConnConfig{})
			_, _, err := c.ReadMessage(nil)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			frames := parseFrames(t, fc.w.Bytes())
			if len(frames) != 1 || frames[0].h.Op != OpClose || frames[0].h.Masked != tt.client ||
				!bytes.Equal(frames[0].payload, closePayload(tt.code, "")) {
				t.Fatalf("wrote %+v, want one close %d", frames, tt.code)
			}
			if _, _, err2 := c.ReadMessage(nil); err2 != err {
				t.Errorf("error is not sticky: %v then %v", err, err2)
			}
		})
	}
}

// withByte0 returns frame with bits ORed into its first byte.
func withByte0(frame []byte, bits byte) []byte {
	frame[0] |= bits
	return frame
}

func TestReadMessageEOF(t *testing.T) {
	full := clientFrame(true, OpBinary, []byte("payload"))
	tests := []struct {
		name   string
		stream []byte
		err    error
	}{
		{"between messages", nil, io.EOF},
		{"inside header", full[:1], io.ErrUnexpectedEOF},
		{"inside extended header", full[:4], io.ErrUnexpectedEOF},
		{"inside payload", full[:len(full)-1], io.ErrUnexpectedEOF},
		{"between fragments", clientFrame(false, OpBinary, []byte("a")), io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		fc := &fakeConn{r: bytes.NewReader(tt.stream)}
		_, _, err := NewServerConn(fc, nil, ConnConfig{}).ReadMessage(nil)
		if err != tt.err {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
		if fc.w.Len() != 0 {
			t.Errorf("%s: wrote % x", tt.name, fc.w.Bytes())
		}
	}
}

func TestWriteMessage(t *testing.T) {
	for _, n := range []int{0, 5, 125, 126, 4096, 4097, 65536, 70000} {
		payload := bytes.Repeat([]byte{0xA5}, n)
		// Server role: exactly AppendFrame's bytes.
		fc := &fakeConn{}
		if err := NewServerConn(fc, nil, ConnConfig{}).WriteMessage(OpBinary, payload); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fc.w.Bytes(), AppendFrame(nil, OpBinary, payload)) {
			t.Fatalf("server n=%d: frame differs from AppendFrame", n)
		}
		// Client role: one masked frame; payload unchanged.
		fc = &fakeConn{}
		if err := NewClientConn(fc, nil, ConnConfig{}).WriteMessage(OpText, payload); err != nil {
			t.Fatal(err)
		}
		frames := parseFrames(t, fc.w.Bytes())
		if len(frames) != 1 || !frames[0].h.Masked || frames[0].h.Op != OpText || !bytes.Equal(frames[0].payload, payload) {
			t.Fatalf("client n=%d: wrote %d frames", n, len(frames))
		}
		if bytes.Count(payload, []byte{0xA5}) != n {
			t.Fatalf("client n=%d: payload modified", n)
		}
	}
}

func TestWriteMessageRefusals(t *testing.T) {
	c := NewServerConn(&fakeConn{}, nil, ConnConfig{})
	for _, op := range []Opcode{OpClose, OpContinuation, 3, 0xB} {
		if err := c.WriteMessage(op, nil); !errors.Is(err, ErrBadOpcode) {
			t.Errorf("WriteMessage(%v) = %v, want ErrBadOpcode", op, err)
		}
	}
	if err := c.WriteMessage(OpPing, make([]byte, 126)); err != ErrControlTooLong {
		t.Errorf("126-byte ping: %v, want ErrControlTooLong", err)
	}
}

func TestWritePreparedFrame(t *testing.T) {
	frames := concat(AppendFrame(nil, OpBinary, []byte("one")), AppendFrame(nil, OpText, []byte("two")))
	fc := &fakeConn{}
	c := NewServerConn(fc, nil, ConnConfig{})
	if err := c.WritePreparedFrame(frames); err != nil || !bytes.Equal(fc.w.Bytes(), frames) {
		t.Fatalf("wrote % x, %v", fc.w.Bytes(), err)
	}
	c.WriteClose(CloseNormal, "")
	if err := c.WritePreparedFrame(frames); err != ErrCloseSent {
		t.Errorf("after close: %v, want ErrCloseSent", err)
	}
}

func TestWritePreparedFrames(t *testing.T) {
	one := AppendFrame(nil, OpBinary, []byte("one"))
	two := AppendFrame(nil, OpBinary, []byte("two"))
	fc := &fakeConn{}
	c := NewServerConn(fc, nil, ConnConfig{})
	bufs := net.Buffers{one, two}
	if err := c.WritePreparedFrames(&bufs); err != nil || !bytes.Equal(fc.w.Bytes(), concat(one, two)) {
		t.Fatalf("wrote % x, %v", fc.w.Bytes(), err)
	}
	if len(bufs) != 0 {
		t.Errorf("%d buffers left unconsumed", len(bufs))
	}
	c.WriteClose(CloseNormal, "")
	bufs = net.Buffers{one}
	if err := c.WritePreparedFrames(&bufs); err != ErrCloseSent {
		t.Errorf("after close: %v, want ErrCloseSent", err)
	}
}

// TestControlReplyWriteTimeout: with ConnConfig.WriteTimeout set, the
// control frames ReadMessage writes itself go out under a fresh write
// deadline, even when the one the caller set last has passed (a server
// that wrote nothing for a while and then gets a ping).
func TestControlReplyWriteTimeout(t *testing.T) {
	tests := []struct {
		name      string
		in        []byte
		wantErr   bool   // ReadMessage fails (close or violation)
		wantOp    Opcode // the frame the peer must get
		wantReply []byte
	}{
		{"ping", concat(clientFrame(true, OpPing, []byte("tick")), clientFrame(true, OpBinary, []byte("data"))), false, OpPong, []byte("tick")},
		{"close", clientFrame(true, OpClose, closePayload(CloseGoingAway, "")), true, OpClose, closePayload(CloseGoingAway, "")},
		{"violation", serverFrame(true, OpBinary, []byte("unmasked")), true, OpClose, closePayload(CloseProtocolError, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, sv := loopbackPair(t)
			sv.SetWriteDeadline(time.Now().Add(-time.Second)) // stale, from an earlier write
			c := NewServerConn(sv, nil, ConnConfig{WriteTimeout: 10 * time.Second})
			cl.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := cl.Write(tt.in); err != nil {
				t.Fatal(err)
			}
			_, _, err := c.ReadMessage(nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ReadMessage: %v, want error %v", err, tt.wantErr)
			}
			var scratch [MaxFrameHeaderSize]byte
			h, err := ReadFrameHeader(cl, &scratch)
			if err != nil {
				t.Fatalf("reading the reply: %v", err)
			}
			payload := make([]byte, h.Length)
			if _, err := io.ReadFull(cl, payload); err != nil || h.Op != tt.wantOp || !bytes.Equal(payload, tt.wantReply) {
				t.Fatalf("reply %v % x (%v), want %v % x", h.Op, payload, err, tt.wantOp, tt.wantReply)
			}
		})
	}
}

// loopbackPair returns both ends of a loopback TCP connection, closed when
// the test ends.
func loopbackPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if client, err = net.Dial("tcp", ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	if server, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}
