package websocket

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// rfcKey and rfcAccept are the example of RFC 6455 section 1.3 (also used
// by golang.org/x/net/websocket's tests).
const (
	rfcKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	rfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// goodRequest is a valid upgrade request in the style of a browser.
const goodRequest = "GET /sub?room=live://1000 HTTP/1.1\r\n" +
	"Host: comet.example.com:3102\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: keep-alive, Upgrade\r\n" +
	"Sec-WebSocket-Key: " + rfcKey + "\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Origin: https://app.example.com\r\n" +
	"User-Agent: test/1.0\r\n" +
	"X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n" +
	"X-Real-IP: 10.0.0.1\r\n" +
	"\r\n"

// goodResponse is the exact answer to goodRequest.
const goodResponse = "HTTP/1.1 101 Switching Protocols\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: " + rfcAccept + "\r\n\r\n"

// handshakeRW reads a canned request and records the answer.
type handshakeRW struct {
	r io.Reader
	w bytes.Buffer
}

func (h *handshakeRW) Read(p []byte) (int, error)  { return h.r.Read(p) }
func (h *handshakeRW) Write(p []byte) (int, error) { return h.w.Write(p) }

// testHandshakeConfig is the config most handshake tests use.
var testHandshakeConfig = HandshakeConfig{
	Path:           "/sub",
	AllowedOrigins: []string{"https://app.example.com", "http://localhost:8080"},
}

func TestAcceptKeyRFCExample(t *testing.T) {
	if got := AcceptKey(rfcKey); got != rfcAccept {
		t.Errorf("AcceptKey(%q) = %q, want %q", rfcKey, got, rfcAccept)
	}
}

func TestServerHandshakeGood(t *testing.T) {
	rw := &handshakeRW{r: strings.NewReader(goodRequest)}
	req, leftover, err := ServerHandshake(rw, make([]byte, 4096), &testHandshakeConfig)
	if err != nil {
		t.Fatalf("ServerHandshake: %v", err)
	}
	if got := rw.w.String(); got != goodResponse {
		t.Errorf("answer:\n%q\nwant:\n%q", got, goodResponse)
	}
	want := Request{Path: "/sub", RawQuery: "room=live://1000", Host: "comet.example.com:3102",
		Origin: "https://app.example.com", UserAgent: "test/1.0",
		ForwardedFor: "10.0.0.1, 10.0.0.2", RealIP: "10.0.0.1"}
	if req != want {
		t.Errorf("req = %+v\nwant  %+v", req, want)
	}
	if leftover != nil {
		t.Errorf("leftover = %q, want none", leftover)
	}
}

// TestServerHandshakeByteByByte feeds the request one byte per read.
func TestServerHandshakeByteByByte(t *testing.T) {
	rw := &handshakeRW{r: iotest.OneByteReader(strings.NewReader(goodRequest))}
	if _, _, err := ServerHandshake(rw, make([]byte, 4096), &testHandshakeConfig); err != nil {
		t.Fatalf("ServerHandshake: %v", err)
	}
	if got := rw.w.String(); got != goodResponse {
		t.Errorf("answer:\n%q\nwant:\n%q", got, goodResponse)
	}
}

// TestServerHandshakeLeftover: a frame sent right behind the request comes
// back as leftover and is read first by the Conn.
func TestServerHandshakeLeftover(t *testing.T) {
	first := clientFrame(true, OpText, []byte("hello"))
	second := clientFrame(true, OpBinary, []byte{1, 2, 3})
	stream := append([]byte(goodRequest), first...)
	stream = append(stream, second[:3]...) // the second frame is cut in the leftover
	rw := &handshakeRW{r: bytes.NewReader(stream)}
	buf := make([]byte, 4096)
	_, leftover, err := ServerHandshake(rw, buf, &testHandshakeConfig)
	if err != nil {
		t.Fatalf("ServerHandshake: %v", err)
	}
	if want := stream[len(goodRequest):]; !bytes.Equal(leftover, want) {
		t.Fatalf("leftover = % x, want % x", leftover, want)
	}
	if &leftover[0] != &buf[len(goodRequest)] {
		t.Error("leftover does not alias buf")
	}
	fc := &fakeConn{r: bytes.NewReader(second[3:])}
	c := NewServerConn(fc, leftover, ConnConfig{})
	clear(buf) // the Conn copied the leftover
	for _, want := range []string{"hello", "\x01\x02\x03"} {
		_, msg, err := c.ReadMessage(nil)
		if err != nil || string(msg) != want {
			t.Fatalf("ReadMessage = %q, %v; want %q", msg, err, want)
		}
	}
}

// TestServerHandshakeSmallBuffer: a nil or short buffer is replaced.
func TestServerHandshakeSmallBuffer(t *testing.T) {
	rw := &handshakeRW{r: strings.NewReader(goodRequest)}
	if _, _, err := ServerHandshake(rw, nil, nil); err != nil {
		t.Fatalf("ServerHandshake(nil buf, nil cfg): %v", err)
	}
}

// replaceHeader returns goodRequest with header line old replaced by new
// ("" drops it).
func replaceHeader(old, new string) string {
	if new != "" {
		new += "\r\n"
	}
	return strings.Replace(goodRequest, old+"\r\n", new, 1)
}

func TestServerHandshakeRefusals(t *testing.T) {
	tests := []struct {
		name    string
		req     string
		status  string // expected status line
		err     error
		reason  string
		headers []string // more expected lines in the answer
	}{
		{"POST", strings.Replace(goodRequest, "GET", "POST", 1), "405 Method Not Allowed",
			ErrMethodNotAllowed, "method must be GET", []string{"Allow: GET"}},
		{"HTTP/1.0", strings.Replace(goodRequest, "HTTP/1.1", "HTTP/1.0", 1), "400 Bad Request",
			ErrBadHTTPVersion, "HTTP/1.1 required", nil},
		{"garbage request line", "HELLO\r\n\r\n", "400 Bad Request",
			ErrMalformedRequest, "malformed request line", nil},
		{"space in target", strings.Replace(goodRequest, "/sub?", "/s b?", 1), "400 Bad Request",
			ErrMalformedRequest, "malformed request line", nil},
		{"header without colon", replaceHeader("User-Agent: test/1.0", "User-Agent test"), "400 Bad Request",
			ErrMalformedRequest, "malformed header line", nil},
		{"space before colon", replaceHeader("User-Agent: test/1.0", "User-Agent : test"), "400 Bad Request",
			ErrMalformedRequest, "malformed header line", nil},
		{"folded header", replaceHeader("User-Agent: test/1.0", "User-Agent: test\r\n folded"), "400 Bad Request",
			ErrMalformedRequest, "malformed header line", nil},
		{"missing Host", replaceHeader("Host: comet.example.com:3102", ""), "400 Bad Request",
			ErrMissingHost, "missing Host header", nil},
		{"two Hosts", replaceHeader("Host: comet.example.com:3102", "Host: a\r\nHost: b"), "400 Bad Request",
			ErrMalformedRequest, "more than one Host header", nil},
		{"wrong path", strings.Replace(goodRequest, "/sub?", "/other?", 1), "404 Not Found",
			ErrPathNotFound, "no websocket endpoint at this path", nil},
		{"missing Upgrade", replaceHeader("Upgrade: websocket", ""), "400 Bad Request",
			ErrNotUpgrade, "missing Upgrade: websocket header", nil},
		{"Upgrade h2c", replaceHeader("Upgrade: websocket", "Upgrade: h2c"), "400 Bad Request",
			ErrNotUpgrade, "missing Upgrade: websocket header", nil},
		{"Connection keep-alive", replaceHeader("Connection: keep-alive, Upgrade", "Connection: keep-alive"),
			"400 Bad Request", ErrNotUpgrade, "Connection header lacks the Upgrade token", nil},
		{"version 8", replaceHeader("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), "426 Upgrade Required",
			ErrBadVersion, "Sec-WebSocket-Version must be 13", []string{"Sec-WebSocket-Version: 13", "Upgrade: websocket"}},
		{"no version", replaceHeader("Sec-WebSocket-Version: 13", ""), "426 Upgrade Required",
			ErrBadVersion, "Sec-WebSocket-Version must be 13", []string{"Sec-WebSocket-Version: 13"}},
		{"no key", replaceHeader("Sec-WebSocket-Key: "+rfcKey, ""), "400 Bad Request",
			ErrBadKey, "Sec-WebSocket-Key must be 16 bytes in base64", nil},
		{"short key", replaceHeader("Sec-WebSocket-Key: "+rfcKey, "Sec-WebSocket-Key: AAAA"), "400 Bad Request",
			ErrBadKey, "Sec-WebSocket-Key must be 16 bytes in base64", nil},
		{"key not base64", replaceHeader("Sec-WebSocket-Key: "+rfcKey, "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!=="),
			"400 Bad Request", ErrBadKey, "Sec-WebSocket-Key must be 16 bytes in base64", nil},
		{"two keys", replaceHeader("Sec-WebSocket-Key: "+rfcKey, "Sec-WebSocket-Key: "+rfcKey+"\r\nSec-WebSocket-Key: "+rfcKey),
			"400 Bad Request", ErrBadKey, "Sec-WebSocket-Key must be 16 bytes in base64", nil},
		{"refused origin", replaceHeader("Origin: https://app.example.com", "Origin: https://evil.example"),
			"403 Forbidden", ErrOriginRefused, "origin not allowed", nil},
		{"too large", strings.Replace(goodRequest, "test/1.0", strings.Repeat("x", 5000), 1),
			"431 Request Header Fields Too Large", ErrRequestTooLarge, "request head larger than 4096 bytes", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rw := &handshakeRW{r: strings.NewReader(tt.req)}
			_, _, err := ServerHandshake(rw, make([]byte, 4096), &testHandshakeConfig)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			var herr *HandshakeError
			if !errors.As(err, &herr) || herr.Reason != tt.reason {
				t.Fatalf("err = %#v, want a HandshakeError with reason %q", err, tt.reason)
			}
			head, body, ok := strings.Cut(rw.w.String(), "\r\n\r\n")
			if !ok || !strings.HasPrefix(head, "HTTP/1.1 "+tt.status+"\r\n") {
				t.Fatalf("answer %q, want status %q", rw.w.String(), tt.status)
			}
			if body != tt.reason+"\n" {
				t.Errorf("body %q, want %q", body, tt.reason+"\n")
			}
			for _, h := range append(tt.headers, "Connection: close", "Content-Type: text/plain; charset=utf-8") {
				if !strings.Contains(head+"\r\n", "\r\n"+h+"\r\n") {
					t.Errorf("answer %q lacks %q", head, h)
				}
			}
		})
	}
}

// TestServerHandshakeAccepts lists requests that differ from goodRequest and
// must still be accepted.
func TestServerHandshakeAccepts(t *testing.T) {
	tests := []struct {
		name string
		req  string
		cfg  HandshakeConfig
	}{
		{"no Origin (not a browser)", replaceHeader("Origin: https://app.example.com", ""), testHandshakeConfig},
		{"origin case", replaceHeader("Origin: https://app.example.com", "Origin: HTTPS://APP.example.com"), testHandshakeConfig},
		{"any origin", replaceHeader("Origin: https://app.example.com", "Origin: https://x.example"), HandshakeConfig{}},
		{"any path", strings.Replace(goodRequest, "/sub?", "/x?", 1), HandshakeConfig{}},
		{"header case and spacing", strings.NewReplacer("Upgrade: websocket", "upgrade:WebSocket",
			"Connection: keep-alive, Upgrade", "CONNECTION: \tkeep-alive ,upgrade\t").Replace(goodRequest), testHandshakeConfig},
		{"two Connection headers", replaceHeader("Connection: keep-alive, Upgrade", "Connection: keep-alive\r\nConnection: Upgrade"), testHandshakeConfig},
		{"absolute-form target", strings.Replace(goodRequest, "GET /sub?", "GET http://comet.example.com/sub?", 1), testHandshakeConfig},
		{"no query", strings.Replace(goodRequest, "/sub?room=live://1000", "/sub", 1), testHandshakeConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rw := &handshakeRW{r: strings.NewReader(tt.req)}
			if _, _, err := ServerHandshake(rw, make([]byte, 4096), &tt.cfg); err != nil {
				t.Fatalf("ServerHandshake: %v", err)
			}
			if got := rw.w.String(); got != goodResponse {
				t.Errorf("answer %q", got)
			}
		})
	}
}

func TestServerHandshakeReadErrors(t *testing.T) {
	for _, tt := range []struct {
		req  string
		want error
	}{
		{"", io.EOF}, // a connect-and-close: a health check, not a protocol error
		{"GET /sub HTTP/1.1\r\nHost: x\r\n", io.ErrUnexpectedEOF},
	} {
		req := tt.req
		rw := &handshakeRW{r: strings.NewReader(req)}
		_, _, err := ServerHandshake(rw, make([]byte, 4096), nil)
		if !errors.Is(err, tt.want) || (tt.want == io.EOF && errors.Is(err, io.ErrUnexpectedEOF)) {
			t.Errorf("request %q: err = %v, want %v", req, err, tt.want)
		}
		if rw.w.Len() != 0 {
			t.Errorf("request %q: answered %q to a closed connection", req, rw.w.String())
		}
	}
}

// TestServerHandshakeMaxRequestBytes: the limit comes from the config, and a
// larger buffer does not raise it.
func TestServerHandshakeMaxRequestBytes(t *testing.T) {
	cfg := HandshakeConfig{MaxRequestBytes: 100}
	rw := &handshakeRW{r: strings.NewReader(goodRequest)}
	_, _, err := ServerHandshake(rw, make([]byte, 8192), &cfg)
	if !errors.Is(err, ErrRequestTooLarge) {
		t.Fatalf("err = %v, want ErrRequestTooLarge", err)
	}
	if !strings.HasPrefix(rw.w.String(), "HTTP/1.1 431 ") {
		t.Errorf("answer %q", rw.w.String())
	}
}
