package websocket

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// fuzzHandshakeConfig is the config FuzzServerHandshake runs under.
var fuzzHandshakeConfig = HandshakeConfig{Path: "/sub", AllowedOrigins: []string{"https://app.example.com"}, MaxRequestBytes: 1024}

func FuzzServerHandshake(f *testing.F) {
	f.Add([]byte(goodRequest))
	f.Add(append([]byte(goodRequest), clientFrame(true, OpText, []byte("hi"))...))
	f.Add([]byte(strings.Replace(goodRequest, "GET", "PUT", 1)))
	f.Add([]byte(replaceHeader("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 7")))
	f.Add([]byte(replaceHeader("Origin: https://app.example.com", "Origin: null")))
	f.Add([]byte(replaceHeader("Host: comet.example.com:3102", "")))
	f.Add([]byte("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte(""))
	f.Add(bytes.Repeat([]byte("A"), 2000))
	f.Fuzz(func(t *testing.T, data []byte) {
		whole := &handshakeRW{r: bytes.NewReader(data)}
		req, leftover, err := ServerHandshake(whole, make([]byte, 1024), &fuzzHandshakeConfig)
		checkHandshakeOutcome(t, data, whole.w.String(), req, leftover, err)
		// Byte by byte the outcome is the same, except that nothing is read
		// past the request.
		single := &handshakeRW{r: iotest.OneByteReader(bytes.NewReader(data))}
		_, leftover1, err1 := ServerHandshake(single, make([]byte, 1024), &fuzzHandshakeConfig)
		if single.w.String() != whole.w.String() || (err == nil) != (err1 == nil) || leftover1 != nil {
			t.Fatalf("one byte at a time: answer %q, err %v; whole: %q, %v", single.w.String(), err1, whole.w.String(), err)
		}
	})
}

// checkHandshakeOutcome checks what ServerHandshake answered and returned.
func checkHandshakeOutcome(t *testing.T, data []byte, answer string, req Request, leftover []byte, err error) {
	var herr *HandshakeError
	switch {
	case err == nil:
		if !strings.HasPrefix(answer, "HTTP/1.1 101 Switching Protocols\r\n") || !strings.HasSuffix(answer, "=\r\n\r\n") {
			t.Fatalf("accepted with answer %q", answer)
		}
		if req.Path != "/sub" || req.Host == "" {
			t.Fatalf("accepted %+v", req)
		}
		if len(leftover) >= len(data) || !bytes.HasSuffix(data, leftover) {
			t.Fatalf("leftover %q is not the end of the input", leftover)
		}
	case errors.As(err, &herr):
		if !strings.HasPrefix(answer, "HTTP/1.1 "+strconv.Itoa(herr.Status)+" ") ||
			!strings.HasSuffix(answer, "\r\n\r\n"+herr.Reason+"\n") || strings.Contains(herr.Reason, "\n") {
			t.Fatalf("refused (%v) with answer %q", err, answer)
		}
	default:
		wantErr := io.ErrUnexpectedEOF
		if len(data) == 0 {
			wantErr = io.EOF
		}
		if answer != "" || !errors.Is(err, wantErr) {
			t.Fatalf("error %v with answer %q", err, answer)
		}
	}
}

func FuzzReadMessage(f *testing.F) {
	stream, _ := boundaryStream()
	f.Add(stream[:2000], false, uint8(0))
	f.Add(concat(clientFrame(false, OpText, []byte("frag")), clientFrame(true, OpPing, []byte("p")),
		clientFrame(true, OpContinuation, []byte("ment"))), false, uint8(3))
	f.Add(clientFrame(true, OpClose, closePayload(CloseNormal, "bye")), false, uint8(1))
	f.Add(clientFrame(true, OpClose, []byte{1}), false, uint8(0))
	f.Add(clientFrame(true, OpText, []byte("\xff")), false, uint8(0))
	f.Add(serverFrame(true, OpBinary, []byte("server")), false, uint8(0))
	f.Add(serverFrame(true, OpBinary, []byte("server")), true, uint8(2))
	f.Add(AppendFrameHeader(nil, true, OpBinary, &testKey, 1<<40), false, uint8(0))
	f.Add([]byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, false, uint8(0))
	f.Add([]byte{0xC1, 0x80, 1, 2, 3, 4}, false, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, client bool, chunk uint8) {
		const limit = 4096
		fc := &fakeConn{r: &chunkReader{data: data, size: int(chunk)}}
		c := newConn(fc, client, nil, ConnConfig{MaxMessageSize: limit})
		var err error
		for range 1000 {
			var op Opcode
			var msg []byte
			if op, msg, err = c.ReadMessage(nil); err != nil {
				break
			}
			if (op != OpText && op != OpBinary) || len(msg) > limit || (op == OpText && !utf8.Valid(msg)) {
				t.Fatalf("ReadMessage gave %v with %d bytes", op, len(msg))
			}
		}
		checkReadOutcome(t, fc.w.Bytes(), client, err)
	})
}

// checkReadOutcome checks the error that ended reading and the frames the
// Conn wrote meanwhile: pongs, and a close frame last if any.
func checkReadOutcome(t *testing.T, written []byte, client bool, err error) {
	var cerr *CloseError
	switch {
	case err == nil, err == io.EOF, err == io.ErrUnexpectedEOF, errors.As(err, &cerr):
	case errors.Is(err, ErrProtocol), errors.Is(err, ErrInvalidUTF8), errors.Is(err, ErrMessageTooBig):
	default:
		t.Fatalf("unexpected error %v", err)
	}
	frames := parseFrames(t, written)
	for i, fr := range frames {
		last := i == len(frames)-1
		if fr.h.Masked != client || !fr.h.Fin || (fr.h.Op != OpPong && (fr.h.Op != OpClose || !last)) {
			t.Fatalf("wrote frame %d %+v", i, fr.h)
		}
	}
}

func FuzzParseFrameHeader(f *testing.F) {
	f.Add([]byte{0x81, 0x05})
	f.Add(AppendFrameHeader(nil, false, OpBinary, &testKey, 70000))
	f.Add([]byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x82, 0x7E, 0x00, 0x01}) // non-minimal length
	f.Fuzz(func(t *testing.T, data []byte) {
		h, n, err := ParseFrameHeader(data)
		if err != nil {
			return
		}
		var key *[4]byte
		if h.Masked {
			key = &h.Key
		}
		b := AppendFrameHeader(nil, h.Fin, h.Op, key, int(h.Length))
		b[0] |= h.RSV << 4
		h2, n2, err := ParseFrameHeader(b)
		if err != nil || h2 != h || n2 > n {
			t.Fatalf("re-encoded %+v as % x: %+v, %d, %v", h, b, h2, n2, err)
		}
	})
}

func FuzzClientHandshake(f *testing.F) {
	f.Add("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")
	f.Add("HTTP/1.1 403 Forbidden\r\n\r\norigin not allowed\n")
	f.Add("HTTP/1.0 101 x\r\nupgrade: WebSocket\r\nconnection: upgrade\r\nsec-websocket-accept: {accept}\r\n\r\nextra")
	f.Fuzz(func(t *testing.T, answer string) {
		s := &scriptedServer{answer: func(accept string) string { return strings.ReplaceAll(answer, "{accept}", accept) }}
		leftover, err := ClientHandshake(s, nil, "h", "/", "")
		if err == nil && !strings.Contains(answer, "{accept}") {
			t.Fatalf("accepted an answer without the accept key: %q", answer)
		}
		if err != nil && leftover != nil {
			t.Fatalf("leftover with error %v", err)
		}
	})
}
