package http1

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// server is what the tests serve on: this package's Server or net/http's.
type server interface {
	Serve(ln net.Listener) error
	Close() error
}

// serve serves s on a loopback listener until the test ends and returns
// its address.
func serve(t testing.TB, s server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, s, ln)
}

// serveOn serves s on ln until the test ends and returns its address.
func serveOn(t testing.TB, s server, ln net.Listener) string {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
		}
	})
	return ln.Addr().String()
}

// echo answers what it was asked, for comparing servers: method, path,
// query, protocol, host, body framing, the X-Test values and the body.
func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "%s path=%q query=%q uri=%q %s host=%q len=%d te=%q close=%v x=%q ua=%q body=%q",
		r.Method, r.URL.Path, r.URL.RawQuery, r.RequestURI, r.Proto, r.Host, r.ContentLength,
		r.TransferEncoding, r.Close, r.Header["X-Test"], r.Header.Get("User-Agent"), body)
}

// client is a raw HTTP/1.1 client on one connection.
type client struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// dial connects a client to addr; it is closed at the test's end.
func dial(t testing.TB, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// send writes raw.
func (c *client) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, raw); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// answer reads one answer to a request of method, body included.
func (c *client) answer(method string) (*http.Response, string) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("read answer: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("read answer body: %v", err)
	}
	return res, string(body)
}

// ended reports whether the server closed the connection (within 5 s)
// without sending anything more.
func (c *client) ended() bool {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := c.br.ReadByte()
	if err == nil {
		c.t.Errorf("unexpected byte %q after the answer", b)
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)
}

// isReset reports whether err is a connection reset.
func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// methodOf is the method of a raw request.
func methodOf(raw string) string {
	m, _, _ := strings.Cut(raw, " ")
	return m
}

// dialErr connects to addr, for checking that nothing listens there.
func dialErr(addr string) (net.Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		nc.Close()
	}
	return nc, err
}

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex // guards buf
	buf strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestLogger logs text to b.
func newTestLogger(b *logBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, nil))
}

// plainListener hands out connections that hide everything but net.Conn,
// RawConn included, as a wrapping listener of a caller's may.
type plainListener struct{ net.Listener }

// Accept implements net.Listener.
func (l plainListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return struct{ net.Conn }{nc}, nil
}
