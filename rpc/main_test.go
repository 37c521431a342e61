package rpc

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/goimx/goim/internal/leaktest"
	"github.com/goimx/goim/internal/testwait"
)

// TestMain fails the run when goroutines of this package outlive the tests.
func TestMain(m *testing.M) {
	leaktest.Main(m, 10*time.Second, "github.com/goimx/goim/rpc.")
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testServer is a Server serving on a loopback listener.
type testServer struct {
	*Server
	addr   string
	served chan error // receives Serve's result
}

// startServer starts a server on 127.0.0.1:0 (or addr) with handlers
// installed by setup; the test's cleanup closes it.
func startServer(t testing.TB, addr string, cfg ServerConfig, logger *slog.Logger, setup func(*Server)) *testServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln := listenRetry(t, addr)
	if logger == nil {
		logger = discardLogger()
	}
	s := NewServer(cfg, logger)
	if setup != nil {
		setup(s)
	}
	ts := &testServer{Server: s, addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { ts.served <- s.Serve(ln) }()
	t.Cleanup(ts.stop)
	return ts
}

// stop closes the server and waits for Serve to return; it may be called
// more than once.
func (ts *testServer) stop() {
	ts.Close()
	if ts.served != nil {
		<-ts.served
		ts.served = nil
	}
}

// listenRetry listens on addr, retrying for a while: a port just freed by a
// closed server can take a moment to be reusable.
func listenRetry(t testing.TB, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	testwait.For(t, 5*time.Second, "listen on "+addr, func() bool {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err == nil
	})
	return ln
}

func newTestClient(t testing.TB, addr string, cfg ClientConfig) *Client {
	t.Helper()
	c := NewClient(addr, cfg, discardLogger())
	t.Cleanup(func() { c.Close() })
	return c
}

// echo is a handler that replies with the request.
func echo(_ context.Context, req, reply []byte) ([]byte, error) {
	return append(reply, req...), nil
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
