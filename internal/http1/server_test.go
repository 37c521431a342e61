package http1

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sameAsStd are raw requests both servers must answer alike.
var sameAsStd = []struct {
	name string
	raw  string
}{
	{"get", "GET /goim/online/total HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"post", "POST /goim/push/keys?operation=1000&keys=a&keys=b HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"},
	{"post empty", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"},
	{"chunked", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nTrailer: x\r\n\r\n"},
	{"chunked upper hex", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n"},
	{"chunked and length", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"},
	{"http/1.0", "GET /p HTTP/1.0\r\n\r\n"},
	{"http/1.0 keep-alive", "GET /p HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
	{"close", "GET /p HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"},
	{"close in list", "GET /p HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n"},
	{"absolute form", "GET http://h.example/p?q=1 HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"escaped path", "GET /a%20b/%2F?x=%20 HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"empty query", "GET /p? HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"repeated header", "GET /p HTTP/1.1\r\nHost: a\r\nX-Test: 1\r\nx-test: 2\r\nX-TEST:3\r\n\r\n"},
	{"padded value", "GET /p HTTP/1.1\r\nHost: a\r\nX-Test: \t v a l \t\r\nUser-Agent:ua\r\n\r\n"},
	{"empty value", "GET /p HTTP/1.1\r\nHost: a\r\nX-Test:\r\n\r\n"},
	{"bare LF", "GET /p HTTP/1.1\nHost: a\nX-Test: lf\n\n"},
	{"head", "HEAD /p HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"other method", "PURGE /p HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"expect continue", "POST /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"},
	{"expect on get", "GET /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"},

	{"no host", "GET /p HTTP/1.1\r\n\r\n"},
	{"two hosts", "GET /p HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
	{"http/2.0", "GET /p HTTP/2.0\r\nHost: a\r\n\r\n"},
	{"bad version", "GET /p HTTP/1.x\r\nHost: a\r\n\r\n"},
	{"lower version", "GET /p http/1.1\r\nHost: a\r\n\r\n"},
	{"no version", "GET /p\r\nHost: a\r\n\r\n"},
	{"bad method", "G@T /p HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"control in target", "GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"bad escape", "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"relative target", "GET p HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"bad header name", "GET /p HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n"},
	{"space before colon", "GET /p HTTP/1.1\r\nHost: a\r\nX-Test : x\r\n\r\n"},
	{"no colon", "GET /p HTTP/1.1\r\nHost: a\r\nX-Test\r\n\r\n"},
	{"control in value", "GET /p HTTP/1.1\r\nHost: a\r\nX-Test: a\x01b\r\n\r\n"},
	{"folded first line", "GET /p HTTP/1.1\r\n Host: a\r\n\r\n"},
	{"bad length", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n"},
	{"negative length", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"},
	{"two lengths", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
	{"gzip encoding", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"},
	{"bad expect", "POST /p HTTP/1.1\r\nHost: a\r\nExpect: tea\r\nContent-Length: 2\r\n\r\nhi"},
	{"bad chunk size", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
	{"chunk without CRLF", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiXX0\r\n\r\n"},
	{"head too large", "GET /p HTTP/1.1\r\nHost: a\r\nX-Test: " + strings.Repeat("v", 20<<10) + "\r\n\r\n"},
	{"line too large", "GET /" + strings.Repeat("p", 20<<10) + " HTTP/1.1\r\nHost: a\r\n\r\n"},
}

// TestSameAsStd sends each request to this server and to net/http's, both
// running the echo handler with a 4 KB head limit, and compares the
// status, the body of successful answers and whether the connection stays
// open.
func TestSameAsStd(t *testing.T) {
	ours := serve(t, &Server{Handler: http.HandlerFunc(echo), MaxHeaderBytes: 4096})
	std := serve(t, &http.Server{Handler: http.HandlerFunc(echo), MaxHeaderBytes: 4096})
	for _, tt := range sameAsStd {
		t.Run(tt.name, func(t *testing.T) {
			want := ask(t, std, tt.raw)
			got := ask(t, ours, tt.raw)
			if got != want {
				t.Errorf("answer differs\nours:     %s\nnet/http: %s", got, want)
			}
		})
	}
}

// ask sends raw on a new connection and sums up the answer: status, the
// body when the status is 2xx, and whether the connection was closed.
func ask(t *testing.T, addr, raw string) string {
	c := dial(t, addr)
	c.send(raw)
	res, body := c.answer(methodOf(raw))
	if res.StatusCode/100 != 2 {
		body = ""
	}
	return strings.Join([]string{strconv.Itoa(res.StatusCode), body, "close=" + strconv.FormatBool(res.Close)}, " | ")
}

// TestKeepAlive serves several requests on one connection, one after the
// other and pipelined, and checks each answer.
func TestKeepAlive(t *testing.T) {
	addr := serve(t, &Server{Handler: http.HandlerFunc(echo)})
	c := dial(t, addr)
	for i, x := range []string{"X-Test: a\r\nX-Test: b\r\n", "", "x-test: c\r\n"} {
		q := strconv.Itoa(i)
		c.send("POST /p?i=" + q + " HTTP/1.1\r\nHost: a\r\n" + x + "Content-Length: 2\r\n\r\nhi")
		res, body := c.answer("POST")
		want := []string{`x=["a" "b"]`, `x=[]`, `x=["c"]`}[i]
		if res.StatusCode != 200 || !strings.Contains(body, `query="i=`+q+`"`) || !strings.Contains(body, want) {
			t.Fatalf("request %d: %s %s, want query i=%s and %s (headers of one request only)", i, res.Status, body, q, want)
		}
	}
	c.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	for _, p := range []string{"/a", "/b", "/c"} {
		res, body := c.answer("GET")
		if res.StatusCode != 200 || !strings.Contains(body, `path="`+p+`"`) {
			t.Fatalf("pipelined %s: %s %s", p, res.Status, body)
		}
	}
	if !c.ended() {
		t.Error("connection open after Connection: close")
	}
}

// TestSplitRequests sends requests in pieces, with pauses between them,
// on one connection, then a whole request: a server that serves whole
// requests without blocking reads must finish the split ones with them
// and go back. It runs on plain sockets and on connections without a
// RawConn.
func TestSplitRequests(t *testing.T) {
	long := strings.Repeat("v", 6000) // a head longer than the read buffer
	cases := []struct {
		name   string
		pieces []string
		want   []string // per answer, in order: what its echo must contain
	}{
		{"head split", []string{"POST /s HTTP/1.1\r\nHo", "st: a\r\nContent-Length: 2\r\n\r\nhi"}, []string{`body="hi"`}},
		{"empty line later", []string{"GET /s HTTP/1.1\r\nHost: a\r\n", "\r\n"}, []string{`path="/s"`}},
		{"body later", []string{"POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", "he", "llo"}, []string{`body="hello"`}},
		{"chunked", []string{"POST /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "0\r\n\r\n"}, []string{`body="abc"`}},
		{"long head", []string{"GET /s HTTP/1.1\r\nHost: a\r\nX-Test: " + long + "\r\n\r\n"}, []string{`path="/s"`}},
		{"second split", []string{"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HT", "TP/1.1\r\nHost: a\r\n\r\n"}, []string{`path="/a"`, `path="/b"`}},
	}
	for _, plain := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if plain {
			ln = plainListener{ln}
		}
		addr := serveOn(t, &Server{Handler: http.HandlerFunc(echo)}, ln)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/plain=%v", tc.name, plain), func(t *testing.T) {
				c := dial(t, addr)
				for _, p := range tc.pieces {
					c.send(p)
					time.Sleep(20 * time.Millisecond)
				}
				for i, want := range tc.want {
					res, body := c.answer(methodOf(tc.pieces[0]))
					if res.StatusCode != 200 || !strings.Contains(body, want) {
						t.Fatalf("answer %d: %s %s, want 200 and %s", i, res.Status, body, want)
					}
				}
				c.send("GET /after HTTP/1.1\r\nHost: a\r\n\r\n")
				if res, body := c.answer("GET"); res.StatusCode != 200 || !strings.Contains(body, `path="/after"`) {
					t.Fatalf("whole request after: %s %s", res.Status, body)
				}
			})
		}
	}
}

// TestAnswers checks what the server adds to a handler's answer.
func TestAnswers(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		method  string
		status  int
		header  map[string]string // "" means absent
		body    string
		close   bool
	}{
		{"sniffed type", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) },
			"GET", 200, map[string]string{"Content-Type": "text/html; charset=utf-8", "Content-Length": "6"}, "<html>", false},
		{"no body", func(w http.ResponseWriter, r *http.Request) {},
			"GET", 200, map[string]string{"Content-Type": "", "Content-Length": "0"}, "", false},
		{"no content", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
			if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrBodyNotAllowed) {
				panic(fmt.Sprint("write after 204: ", err))
			}
		}, "GET", 204, map[string]string{"Content-Length": ""}, "", false},
		{"head", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("12345")) },
			"HEAD", 200, map[string]string{"Content-Length": "5"}, "", false},
		{"header after WriteHeader", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-A", "1")
			w.WriteHeader(http.StatusTeapot)
			w.Header().Set("X-B", "2")
			w.WriteHeader(http.StatusOK)
		}, "GET", 418, map[string]string{"X-A": "1", "X-B": ""}, "", false},
		{"handler closes", func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Connection", "close") },
			"GET", 200, nil, "", true},
		{"newline in value", func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-A", "a\r\nX-B: b") },
			"GET", 200, map[string]string{"X-A": "a  X-B: b", "X-B": ""}, "", false},
		{"own length dropped", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "99")
			w.Write([]byte("ab"))
		}, "GET", 200, map[string]string{"Content-Length": "2"}, "ab", false},
		{"unknown status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(599) },
			"GET", 599, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, serve(t, &Server{Handler: tt.handler}))
			c.send(tt.method + " / HTTP/1.1\r\nHost: a\r\n\r\n")
			res, body := c.answer(tt.method)
			if res.StatusCode != tt.status || body != tt.body || res.Close != tt.close {
				t.Errorf("got %s %q close=%v, want %d %q close=%v", res.Status, body, res.Close, tt.status, tt.body, tt.close)
			}
			if res.Header.Get("Date") == "" {
				t.Error("no Date")
			}
			for k, v := range tt.header {
				if got := strings.Join(res.Header.Values(k), ","); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestUnreadBody checks that a body the handler left is read away when
// small and closes the connection when large.
func TestUnreadBody(t *testing.T) {
	addr := serve(t, &Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})})
	for _, tt := range []struct {
		name  string
		head  string
		body  string
		close bool
	}{
		{"small", "Content-Length: 5", "hello", false},
		{"small chunked", "Transfer-Encoding: chunked", "5\r\nhello\r\n0\r\n\r\n", false},
		{"large", "Content-Length: 300000", strings.Repeat("x", 300000), true},
		{"large chunked", "Transfer-Encoding: chunked", "50000\r\n" + strings.Repeat("x", 0x50000) + "\r\n0\r\n\r\n", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			go c.send("POST /p HTTP/1.1\r\nHost: a\r\n" + tt.head + "\r\n\r\n" + tt.body)
			res, _ := c.answer("POST")
			if res.Close != tt.close {
				t.Fatalf("close=%v, want %v", res.Close, tt.close)
			}
			if tt.close {
				return
			}
			c.send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n")
			if res, _ := c.answer("GET"); res.StatusCode != 200 {
				t.Fatalf("next request: %s", res.Status)
			}
		})
	}
}

// TestExpectContinue checks that "100 Continue" comes before the body is
// read, and only when the handler reads it.
func TestExpectContinue(t *testing.T) {
	addr := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/read" {
			echo(w, r)
		}
	})})
	c := dial(t, addr)
	c.send("POST /read HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
	if res, _ := c.answer("POST"); res.StatusCode != http.StatusContinue {
		t.Fatalf("got %s, want 100 Continue", res.Status)
	}
	c.send("hi")
	if res, body := c.answer("POST"); res.StatusCode != 200 || !strings.Contains(body, `body="hi"`) {
		t.Fatalf("answer: %s %s", res.Status, body)
	}

	c = dial(t, addr)
	c.send("POST /skip HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
	res, _ := c.answer("POST")
	if res.StatusCode != 200 || !res.Close {
		t.Fatalf("unread body: %s close=%v, want 200 and close", res.Status, res.Close)
	}
	if !c.ended() {
		t.Error("connection open after an unread expected body")
	}
}

// TestTimeouts checks that the sweeper closes a connection that overstays
// its head, its idle wait or its body, and that an answer due after
// WriteTimeout is not sent.
func TestTimeouts(t *testing.T) {
	const d = 100 * time.Millisecond
	slow := make(chan struct{})
	defer close(slow)
	s := &Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				time.Sleep(3 * d)
			}
			echo(w, r)
		}),
		ReadHeaderTimeout: d, ReadTimeout: 2 * d, WriteTimeout: 2 * d, IdleTimeout: d,
	}
	addr := serve(t, s)
	for _, tt := range []struct {
		name   string
		raw    string
		answer bool // one answer comes before the close
	}{
		{"head", "GET /p HTTP/1.1\r\nHost: a\r\n", false},
		{"idle", "GET /p HTTP/1.1\r\nHost: a\r\n\r\n", true},
		{"body", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhalf", false},
		{"write", "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n", false},
		{"first byte", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			start := time.Now()
			c.send(tt.raw)
			if tt.answer {
				if res, _ := c.answer("GET"); res.StatusCode != 200 {
					t.Fatalf("answer: %s", res.Status)
				}
			}
			if !c.ended() {
				t.Fatal("connection not closed")
			}
			// The sweeper's clock runs up to a tick (d/8) behind.
			if since := time.Since(start); since < d-d/4 {
				t.Errorf("closed after %v, well before the timeout of %v", since, d)
			}
		})
	}
}

// TestShutdown checks that Shutdown closes idle connections at once, lets
// a request in progress finish with "Connection: close", and that Serve
// then returns http.ErrServerClosed.
func TestShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wait" {
			close(entered)
			<-release
		}
	})}
	addr := serve(t, s)
	idle := dial(t, addr)
	idle.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	idle.answer("GET")
	busy := dial(t, addr)
	busy.send("GET /wait HTTP/1.1\r\nHost: a\r\n\r\n")
	<-entered

	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	if !idle.ended() {
		t.Error("idle connection not closed by Shutdown")
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a request in progress", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	res, _ := busy.answer("GET")
	if res.StatusCode != 200 || !res.Close {
		t.Errorf("request in progress: %s close=%v, want 200 and close", res.Status, res.Close)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := dialErr(addr); err == nil {
		t.Error("listener still accepts after Shutdown")
	}
}

// TestShutdownTimeout checks that Shutdown returns ctx's error when a
// request does not finish in time, and Close then ends it.
func TestShutdownTimeout(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})}
	c := dial(t, serve(t, s))
	c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want context.DeadlineExceeded", err)
	}
	s.Close()
	if !c.ended() {
		t.Error("connection open after Close")
	}
}

// TestPanic checks that a handler's panic closes its connection without an
// answer, is logged (http.ErrAbortHandler is not) and leaves the server
// serving.
func TestPanic(t *testing.T) {
	var logged logBuffer
	s := &Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/panic":
				panic("boom")
			case "/abort":
				panic(http.ErrAbortHandler)
			}
		}),
		Logger: newTestLogger(&logged),
	}
	addr := serve(t, s)
	for _, p := range []string{"/panic", "/abort"} {
		c := dial(t, addr)
		c.send("GET " + p + " HTTP/1.1\r\nHost: a\r\n\r\n")
		if !c.ended() {
			t.Errorf("%s: connection open after a panic", p)
		}
	}
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if res, _ := c.answer("GET"); res.StatusCode != 200 {
		t.Errorf("after the panics: %s", res.Status)
	}
	s.Close()
	if n := strings.Count(logged.String(), "handler panic"); n != 1 {
		t.Errorf("%d panics logged, want 1:\n%s", n, logged.String())
	}
}
