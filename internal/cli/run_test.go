package cli

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/internal/testcert"
	"github.com/goimx/goim/server"
)

// syncBuffer is a bytes buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logLine returns the first JSON log line whose msg is msg, or nil.
func (b *syncBuffer) logLine(msg string) map[string]any {
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == msg {
			return m
		}
	}
	return nil
}

// waitLogLine waits for the JSON log line msg.
func (b *syncBuffer) waitLogLine(t *testing.T, msg string) map[string]any {
	t.Helper()
	var line map[string]any
	testwait.For(t, 10*time.Second, "log line "+msg, func() bool {
		line = b.logLine(msg)
		return line != nil
	})
	return line
}

// TestRunAllInOne runs the all-in-one App in process on loopback ports
// chosen by the system, with TLS, a cluster secret on the RPC links and
// the debug server, pushes to a secure
// WebSocket client, and stops it by cancelling its context; once with
// each -links value.
func TestRunAllInOne(t *testing.T) {
	for _, links := range []string{string(server.LinksRPC), string(server.LinksDirect)} {
		t.Run(links, func(t *testing.T) { runAllInOne(t, links) })
	}
}

func runAllInOne(t *testing.T, links string) {
	certFile, keyFile := testcert.New(t).WriteFiles(t)
	app := NewApp("goim", "")
	start := app.AllInOne()
	args := []string{"-links", links, "-log-format", "json", "-stats-interval", "50ms", "-debug-addr", "127.0.0.1:0",
		"-logic.http", "127.0.0.1:0", "-logic.rpc", "127.0.0.1:0",
		"-comet.tcp", "127.0.0.1:0", "-comet.ws", "127.0.0.1:0", "-comet.wss", "127.0.0.1:0", "-comet.rpc", "127.0.0.1:0",
		"-comet.cert", certFile, "-comet.key", keyFile, "-comet.report-interval", "50ms",
		"-job.rpc", "127.0.0.1:0", "-job.comet-refresh", "50ms", "-job.report-interval", "50ms",
		"-cluster-secret-file", writeSecret(t, testSecret)}
	var logs syncBuffer
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan int, 1)
	go func() { done <- app.Run(ctx, args, &logs, start) }()
	defer func() {
		cancel(errors.New("test over"))
		<-done
	}()

	httpAddr := logs.waitLogLine(t, "logic: started")["http"].(string)
	cometLine := logs.waitLogLine(t, "comet: started")
	wss := cometLine["wss"].(string)
	if got := logs.waitLogLine(t, "goim: tiers linked")["links"]; got != links {
		t.Errorf("tiers linked %v, want %s", got, links)
	}
	if inProc := cometLine["logic"] == "in process"; inProc != (links == string(server.LinksDirect)) {
		t.Errorf("-links %s: comet's logic %v", links, cometLine["logic"])
	}
	debugAddr := logs.waitLogLine(t, "debug: started")["addr"].(string)

	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	c, err := client.Dial(dctx, client.Config{Transport: client.TransportWSS, Addr: wss,
		TLSConfig: &tls.Config{InsecureSkipVerify: true}, Token: client.Token{Key: "k1", Accepts: []int32{1000}}})
	if err != nil {
		t.Fatalf("dial wss %s: %v", wss, err)
	}
	defer c.Close()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	pushURL := "http://" + httpAddr + "/goim/push/keys?operation=1000&keys=k1"
	var body string
	attempt := 0
	testwait.For(t, 10*time.Second, "a push to be accepted", func() bool {
		attempt++
		body = fmt.Sprintf("hello-%d", attempt)
		resp, err := hc.Post(pushURL, "text/plain", strings.NewReader(body))
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(b), `"code":0`)
	})
	timer := time.AfterFunc(10*time.Second, func() { c.Close() })
	m, err := c.Read() // only the accepted push was delivered
	timer.Stop()
	if err != nil || m.Op != 1000 || string(m.Body) != body {
		t.Errorf("read %d %q, %v; want 1000 %q", m.Op, m.Body, err, body)
	}
	checkDebug(t, hc, debugAddr)
	logs.waitLogLine(t, "comet: stats")
	if line := logs.waitLogLine(t, "logic: stats"); line["push_keys"] == nil || line["sessions"] == nil {
		t.Errorf("logic: stats line %v lacks push_keys or sessions", line)
	}

	cancel(errors.New("test over"))
	if code := <-done; code != ExitOK {
		t.Errorf("Run = %d, want %d", code, ExitOK)
	}
	done <- ExitOK // for the deferred cancel
	for _, msg := range []string{"goim: shutting down", "job: stopped", "comet: stopped", "logic: stopped", "goim: exiting"} {
		if logs.logLine(msg) == nil {
			t.Errorf("no log line %q:\n%s", msg, logs.String())
		}
	}
	if cause := logs.logLine("goim: shutting down")["cause"]; cause != "test over" {
		t.Errorf("shutdown cause %v, want test over", cause)
	}
}

// checkDebug checks the debug server's pages.
func checkDebug(t *testing.T, hc *http.Client, addr string) {
	t.Helper()
	for path, wants := range map[string][]string{
		"/debug/pprof/":        {"goroutine"},
		"/debug/stats":         {`"comet"`, `"logic"`, `"Pushes"`, `"job"`},
		"/debug/pprof/cmdline": {""},
	} {
		resp, err := hc.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range wants {
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
				t.Errorf("GET %s: %d %q, want 200 with %q", path, resp.StatusCode, b, want)
			}
		}
	}
}

// fakeTier is a Tier that records its calls.
type fakeTier struct {
	name              string
	shutdowns, closes atomic.Int32
	block             bool // Shutdown waits for its context
	log               *[]string
	mu                *sync.Mutex // guards *log
}

func (f *fakeTier) Name() string { return f.name }

func (f *fakeTier) Shutdown(ctx context.Context) error {
	f.shutdowns.Add(1)
	f.record("shutdown " + f.name)
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (f *fakeTier) Close() error {
	f.closes.Add(1)
	f.record("close " + f.name)
	return nil
}

func (f *fakeTier) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*f.log = append(*f.log, s)
}

func (f *fakeTier) Stats() any        { return map[string]int{"n": 1} }
func (f *fakeTier) StatsAttrs() []any { return []any{"n", 1} }

// TestRunLifecycle drives Run with fake tiers: the stop order, a serve
// failure, a start failure and a graceful stop that runs out of time.
func TestRunLifecycle(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		block    bool     // tier b's Shutdown blocks
		failServ bool     // a serve loop fails
		failAt   int      // start fails after this many tiers (0: never)
		cancel   bool     // the context is cancelled
		code     int      // Run's status
		want     []string // calls in order
	}{
		{name: "stop", cancel: true, code: ExitOK, want: []string{"shutdown b", "shutdown a"}},
		{name: "serve-failure", failServ: true, code: ExitFailure, want: []string{"shutdown b", "shutdown a"}},
		{name: "start-failure", failAt: 1, code: ExitFailure, want: []string{"close a"}},
		{name: "timeout", args: []string{"-shutdown-timeout", "20ms"}, block: true, cancel: true, code: ExitOK,
			want: []string{"shutdown b", "close b", "shutdown a"}},
		{name: "usage", args: []string{"-nope"}, code: ExitUsage},
		{name: "help", args: []string{"-h"}, code: ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var calls []string
			a := &fakeTier{name: "a", log: &calls, mu: &mu}
			b := &fakeTier{name: "b", log: &calls, mu: &mu, block: tt.block}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := func(g *Group) error {
				g.Add(a)
				if tt.failAt == 1 {
					return errors.New("no b")
				}
				g.Add(b)
				stop := make(chan struct{})
				g.Go("loop", func() error {
					if tt.failServ {
						return errors.New("boom")
					}
					<-stop
					return ErrUsage
				}, ErrUsage)
				go func() {
					<-ctx.Done()
					close(stop)
				}()
				if tt.cancel {
					cancel()
				}
				return nil
			}
			app := NewApp("x", "")
			code := app.Run(ctx, tt.args, io.Discard, start)
			cancel()
			mu.Lock()
			defer mu.Unlock()
			if code != tt.code || fmt.Sprint(calls) != fmt.Sprint(tt.want) {
				t.Errorf("Run = %d, calls %v; want %d, %v", code, calls, tt.code, tt.want)
			}
		})
	}
}
