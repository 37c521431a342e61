package websocket

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// scriptedServer is an io.ReadWriter playing a server: it reads the
// client's request on Write and then serves answer(accept) + extra.
type scriptedServer struct {
	answer  func(accept string) string
	extra   []byte
	request bytes.Buffer
	r       io.Reader
	oneByte bool
}

func (s *scriptedServer) Write(p []byte) (int, error) {
	s.request.Write(p)
	_, rest, _ := strings.Cut(s.request.String(), "Sec-WebSocket-Key: ")
	key, _, _ := strings.Cut(rest, "\r\n")
	s.r = bytes.NewReader(append([]byte(s.answer(AcceptKey(key))), s.extra...))
	if s.oneByte {
		s.r = iotest.OneByteReader(s.r)
	}
	return len(p), nil
}

func (s *scriptedServer) Read(p []byte) (int, error) { return s.r.Read(p) }

// answer101 returns a valid answer with extra header lines.
func answer101(extra string) func(string) string {
	return func(accept string) string {
		return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + accept + "\r\n" + extra + "\r\n"
	}
}

func TestClientHandshakeRequest(t *testing.T) {
	s := &scriptedServer{answer: answer101(""), oneByte: true}
	if _, err := ClientHandshake(s, nil, "example.com:3102", "/sub?x=1", "https://app.example.com"); err != nil {
		t.Fatalf("ClientHandshake: %v", err)
	}
	// The request must pass our own server's checks.
	rw := &handshakeRW{r: bytes.NewReader(s.request.Bytes())}
	req, _, err := ServerHandshake(rw, nil, &testHandshakeConfig)
	if err != nil {
		t.Fatalf("our server refused our request %q: %v", s.request.String(), err)
	}
	if req.Host != "example.com:3102" || req.Path != "/sub" || req.RawQuery != "x=1" || req.Origin != "https://app.example.com" {
		t.Errorf("req = %+v", req)
	}
	s = &scriptedServer{answer: answer101("")}
	ClientHandshake(s, nil, "h", "/", "")
	if strings.Contains(s.request.String(), "Origin") {
		t.Errorf("request with empty origin has an Origin header: %q", s.request.String())
	}
}

func TestClientHandshakeLeftover(t *testing.T) {
	frame := serverFrame(true, OpText, []byte("welcome"))
	s := &scriptedServer{answer: answer101(""), extra: frame}
	leftover, err := ClientHandshake(s, make([]byte, 1024), "h", "/sub", "")
	if err != nil || !bytes.Equal(leftover, frame) {
		t.Fatalf("leftover % x, %v; want % x", leftover, err, frame)
	}
	c := NewClientConn(&fakeConn{r: bytes.NewReader(nil)}, leftover, ConnConfig{})
	if _, msg, err := c.ReadMessage(nil); err != nil || string(msg) != "welcome" {
		t.Errorf("ReadMessage = %q, %v", msg, err)
	}
}

func TestClientHandshakeBadAnswers(t *testing.T) {
	tests := []struct {
		name   string
		answer func(string) string
		err    error
		detail string
	}{
		{"refused", func(string) string {
			return "HTTP/1.1 404 Not Found\r\nContent-Length: 34\r\n\r\nno websocket endpoint at this path\n"
		}, ErrBadStatus, "404 Not Found: no websocket endpoint at this path"},
		{"garbage", func(string) string { return "SSH-2.0-OpenSSH\r\n\r\n" }, ErrBadResponse, "malformed status line"},
		{"wrong accept", func(string) string { return answer101("")("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") }, ErrBadResponse, "Sec-WebSocket-Accept"},
		{"no accept", func(string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
		}, ErrBadResponse, "Sec-WebSocket-Accept"},
		{"no upgrade", func(a string) string {
			return strings.Replace(answer101("")(a), "Upgrade: websocket\r\n", "", 1)
		}, ErrBadResponse, "Upgrade: websocket"},
		{"no connection", func(a string) string {
			return strings.Replace(answer101("")(a), "Connection: Upgrade\r\n", "", 1)
		}, ErrBadResponse, "Connection"},
		{"extension", answer101("Sec-WebSocket-Extensions: permessage-deflate\r\n"), ErrBadResponse, "Extensions"},
		{"too large", answer101("X-Big: " + strings.Repeat("b", 2000) + "\r\n"), ErrBadResponse, "larger than"},
		{"bad header", answer101("no colon\r\n"), ErrBadResponse, "malformed header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ClientHandshake(&scriptedServer{answer: tt.answer}, nil, "h", "/", "")
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.err, tt.detail)
			}
		})
	}
	s := &scriptedServer{answer: func(string) string { return "HTTP/1.1 101 Switching" }}
	if _, err := ClientHandshake(s, nil, "h", "/", ""); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut answer: %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestClientHandshakeBadArguments(t *testing.T) {
	for _, args := range [][3]string{{"", "/", ""}, {"h", "", ""}, {"h\r\nX: y", "/", ""}, {"h", "/", "o\n"}} {
		if _, err := ClientHandshake(&scriptedServer{}, nil, args[0], args[1], args[2]); !errors.Is(err, ErrBadURL) {
			t.Errorf("ClientHandshake%q = %v, want ErrBadURL", args, err)
		}
	}
}
