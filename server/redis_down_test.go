package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/logic"
	"github.com/redis/go-redis/v9"
)

// startRedisServer starts a redis-server of the test's own on port,
// without persistence, and waits until it answers; the returned func
// kills it (SIGKILL), and the test's cleanup does too. Without
// redis-server it skips the test, or fails it when CI=true.
func startRedisServer(t *testing.T, port int) func() {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server not installed (CI=true requires it): %v", err)
		}
		t.Skipf("redis-server not installed (%v); install it or set CI=true to make this a failure", err)
	}
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill := func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(kill)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), DisableIdentity: true, MaxRetries: -1})
	defer rdb.Close()
	testwait.For(t, 10*time.Second, "redis-server to answer", func() bool {
		return rdb.Ping(context.Background()).Err() == nil
	})
	return kill
}

// pushKeys pushes body to key through the HTTP API at addr and returns
// the answer's text.
func pushKeys(t *testing.T, addr, key, body string) string {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post("http://"+addr+"/goim/push/keys?operation=1000&keys="+key, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// readPush reads messages from c until one of operation 1000 (skipping
// heartbeat replies) and returns its body, or "" when c ends or nothing
// comes within 10s.
func readPush(c *client.Conn) string {
	timer := time.AfterFunc(10*time.Second, func() { c.Close() })
	defer timer.Stop()
	for {
		m, err := c.Read()
		if err != nil {
			return ""
		}
		if m.Op == 1000 {
			return string(m.Body)
		}
	}
}

// TestRedisDownClientsStay: with logic on Redis, Redis dying makes key
// pushes answer -500 naming Redis, while the connected client stays
// connected (its heartbeats, whose session renewals fail, are still
// answered); when Redis comes back empty, the comet re-sends its sessions
// and pushes reach the client again, with no restart of anything.
func TestRedisDownClientsStay(t *testing.T) {
	ln, err := net.Listen("tcp", loop)
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	kill := startRedisServer(t, port)
	logger := slog.New(slog.DiscardHandler)
	lc := LogicConfig{HTTPAddr: loop, RPCAddr: loop,
		Logic: logic.Config{Redis: "redis://127.0.0.1:" + strconv.Itoa(port) + "/0", NodeTTL: 2 * time.Second}}
	l, err := StartLogic(lc, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Every heartbeat renews the session with logic.
	c, err := StartComet(CometConfig{TCPAddrs: []string{loop}, WSAddr: NoListen, RPCAddr: loop, LogicAddr: l.RPCAddr().String(),
		Comet: comet.Config{ReportInterval: 100 * time.Millisecond, RenewInterval: time.Millisecond}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	jc := JobConfig{RPCAddr: loop, LogicAddr: l.RPCAddr().String()}
	jc.Job.ReportInterval, jc.Job.CometRefresh = 100*time.Millisecond, 100*time.Millisecond
	j, err := StartJob(jc, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	waitReady(t, &Node{logic: l, comet: c, job: j})
	conn := dial(t, client.TransportTCP, c.Addrs().TCP[0], nil, "k")
	httpAddr := l.HTTPAddr().String()
	if got := pushKeys(t, httpAddr, "k", "before"); !strings.Contains(got, `"code":0`) {
		t.Fatalf("push before: %s", got)
	}
	if got := readPush(conn); got != "before" {
		t.Fatalf("read %q, want before", got)
	}

	kill()
	if got := pushKeys(t, httpAddr, "k", "down"); !strings.Contains(got, `"code":-500`) || !strings.Contains(got, "redis") {
		t.Errorf("push with Redis down: %s; want -500 naming Redis", got)
	}
	// Heartbeats go on being answered although their renewals fail.
	for i := range 3 {
		if err := conn.Heartbeat(); err != nil {
			t.Fatalf("heartbeat %d with Redis down: %v", i, err)
		}
		m, err := conn.Read()
		if _, ok := client.OnlineCount(m); err != nil || !ok {
			t.Fatalf("heartbeat %d with Redis down: reply op %d, %v; the comet closed the client", i, m.Op, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := c.Comet().Stats().Conns; n != 1 {
		t.Fatalf("comet holds %d connections with Redis down, want 1", n)
	}

	startRedisServer(t, port) // back, empty
	attempt := 0
	testwait.ForReason(t, 20*time.Second, "pushes to reach the client again", func() (bool, string) {
		attempt++
		body := "after-" + strconv.Itoa(attempt)
		got := pushKeys(t, httpAddr, "k", body)
		if !strings.Contains(got, `"conns":1`) {
			return false, got
		}
		return readPush(conn) == body, "not received"
	})
}
