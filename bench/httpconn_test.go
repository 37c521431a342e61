package bench

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestPushConnNetHTTP talks to a net/http server: requests are read
// correctly, answers parsed, the connection kept alive.
func TestPushConnNetHTTP(t *testing.T) {
	var mu sync.Mutex
	var conns = map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/goim/push/keys":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"code":-400,"message":"no such endpoint"}`)
		case r.URL.Query().Get("keys") == "large": // the body's length as conns
			io.WriteString(w, `{"code":0,"message":"","data":{"conns":`+strconv.Itoa(len(body))+`,"comets":1}}`)
		case r.URL.Query().Get("keys") == "big": // chunked: larger than net/http's buffer
			w.Write([]byte(`{"code":0,"message":"","data":{"conns":3,"comets":1},"pad":"`))
			w.Write(bytes.Repeat([]byte("x"), 9000))
			w.Write([]byte(`"}`))
		default:
			io.WriteString(w, `{"code":0,"message":"","data":{"conns":`+string(body)+`,"comets":1}}`)
		}
	}))
	defer srv.Close()
	pc := NewPushConn(strings.TrimPrefix(srv.URL, "http://"), 0)
	defer pc.Close()
	for i, c := range []string{"1", "0", "12"} {
		a, err := pc.Post([]byte("/goim/push/keys?operation=1&keys=k"), []byte(c))
		if err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
		if a.Status != 200 || a.Code != 0 || a.Conns != jsonInt([]byte(`"conns":`+c), `"conns":`, -2) {
			t.Errorf("push %d: %+v", i, a)
		}
	}
	a, err := pc.Post([]byte("/goim/push/keys?operation=1&keys=big"), nil)
	if err != nil || a.Conns != 3 || len(a.Body) < 9000 {
		t.Errorf("chunked answer: conns %d, %d bytes, %v", a.Conns, len(a.Body), err)
	}
	// A request larger than the socket takes at once: the rest is written
	// after the first write, and nothing twice.
	large := bytes.Repeat([]byte("y"), 16<<20)
	a, err = pc.Post([]byte("/goim/push/keys?operation=1&keys=large"), large)
	if err != nil || a.Conns != len(large) {
		t.Errorf("large request: the server read %d bytes of %d, %v", a.Conns, len(large), err)
	}
	a, err = pc.Post([]byte("/nope"), nil)
	if !errors.Is(err, ErrPushFailed) || a.Status != 404 || a.Code != -400 {
		t.Errorf("404: %+v, %v", a, err)
	}
	if len(conns) != 1 {
		t.Errorf("%d connections used, want 1 kept alive", len(conns))
	}
}

// TestPushConnAnswers feeds canned answers from a raw server.
func TestPushConnAnswers(t *testing.T) {
	tests := []struct {
		name    string
		answer  string
		code    int
		conns   int
		wantErr error
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{\"code\":0,\"\"}", 0, -1, nil},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"cod\r\nc\r\ne\":-500,\"x\":\r\n2\r\n1}\r\n0\r\n\r\n", -500, -1, ErrPushFailed},
		{"close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 27\r\n\r\n{\"code\":0,\"data\":{\"conns\":4", 0, 4, nil},
		{"no length", "HTTP/1.1 200 OK\r\n\r\n{}", 0, 0, ErrHTTP},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", 0, 0, ErrHTTP},
		{"not http", "SSH-2.0\r\n", 0, 0, ErrHTTP},
		{"bad header", "HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", 0, 0, ErrHTTP},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, 0, ErrHTTP},
		{"truncated", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", 0, 0, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serveCanned(t, tt.answer)
			pc := NewPushConn(addr, 0)
			defer pc.Close()
			a, err := pc.Post([]byte("/p"), []byte("body"))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr != ErrPushFailed {
					return
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if a.Code != tt.code || a.Conns != tt.conns {
				t.Errorf("code %d conns %d, want %d %d", a.Code, a.Conns, tt.code, tt.conns)
			}
		})
	}
}

// serveCanned serves one connection: it reads one request and writes
// answer, then closes.
func serveCanned(t *testing.T, answer string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		if _, err := http.ReadRequest(bufio.NewReader(nc)); err != nil {
			return
		}
		io.WriteString(nc, answer)
	}()
	return ln.Addr().String()
}

func TestJSONInt(t *testing.T) {
	tests := []struct {
		body string
		key  string
		want int
	}{
		{`{"code":0}`, `"code":`, 0},
		{`{"code":-400,"x":1}`, `"code":`, -400},
		{`{"data":{"conns":17,"comets":2}}`, `"conns":`, 17},
		{`{"code":"x"}`, `"code":`, -9},
		{`{}`, `"code":`, -9},
		{`{"code":-}`, `"code":`, -9},
	}
	for _, tt := range tests {
		if got := jsonInt([]byte(tt.body), tt.key, -9); got != tt.want {
			t.Errorf("jsonInt(%s, %s) = %d, want %d", tt.body, tt.key, got, tt.want)
		}
	}
}

// FuzzReadAnswer feeds arbitrary bytes as an HTTP answer: the parser must
// return an answer or an error, never panic or loop.
func FuzzReadAnswer(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\n{\"code\":-4}"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pc := &PushConn{br: bufio.NewReaderSize(bytes.NewReader(data), 4096)}
		a, err := pc.readAnswer()
		if err == nil && len(a.Body) > maxAnswer {
			t.Fatalf("body of %d bytes", len(a.Body))
		}
	})
}

// BenchmarkPushConnPost measures the client's cost per request against a
// server that answers from memory.
func BenchmarkPushConnPost(b *testing.B) {
	addr := serveFixed(b, "HTTP/1.1 200 OK\r\nContent-Length: 48\r\n\r\n{\"code\":0,\"message\":\"\",\"data\":{\"conns\":1,\"c\":1}}")
	pc := NewPushConn(addr, 0)
	defer pc.Close()
	path, body := []byte("/goim/push/keys?operation=1000&keys=bench-1"), AppendStamp(nil, Stamp{}, 16)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pc.Post(path, body); err != nil {
			b.Fatal(err)
		}
	}
}

// serveFixed answers every request on every connection with answer; the
// request must have a Content-Length body. It stops with the test.
func serveFixed(tb testing.TB, answer string) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, nc := range open {
			nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, nc)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				answerAll(nc, []byte(answer))
			}()
		}
	}()
	return ln.Addr().String()
}

// answerAll reads requests from nc and writes answer to each.
func answerAll(nc net.Conn, answer []byte) {
	defer nc.Close()
	br := bufio.NewReader(nc)
	for {
		n := 0
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 {
				break
			}
			if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
				n, _ = atoi(bytes.TrimSpace(v))
			}
		}
		if _, err := br.Discard(n); err != nil {
			return
		}
		if _, err := nc.Write(answer); err != nil {
			return
		}
	}
}
