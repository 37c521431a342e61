package logic

import (
	"context"
	"errors"
	"fmt"
	"github.com/goimx/goim/internal/testwait"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
	"github.com/redis/go-redis/v9"
)

// freePort returns a loopback TCP port that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	must(t, ln.Close())
	return port
}

// startRedis starts a redis-server of the test's own on port, without
// persistence, and waits until it answers. The test's cleanup kills it.
// Without redis-server it skips the test, or fails it when CI=true.
func startRedis(t *testing.T, port int) *exec.Cmd {
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
	must(t, cmd.Start())
	t.Cleanup(func() { killRedis(cmd) })
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), DisableIdentity: true, MaxRetries: -1})
	defer rdb.Close()
	testwait.For(t, 10*time.Second, "redis-server to answer", func() bool {
		return rdb.Ping(context.Background()).Err() == nil
	})
	return cmd
}

// killRedis kills the server with SIGKILL, if it still runs, and reaps it.
func killRedis(cmd *exec.Cmd) {
	if cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// pushAnswer runs a push request and returns its code and message.
func pushAnswer(t *testing.T, e *testEnv, target string) (int, string) {
	t.Helper()
	start := time.Now()
	_, v := do(t, e.l.Handler(), "POST", target, "m")
	m, _ := v.(map[string]any)
	code, _ := m["code"].(float64)
	msg, _ := m["message"].(string)
	t.Logf("%s: %v in %v", target, v, time.Since(start).Round(time.Millisecond))
	return int(code), msg
}

// TestRedisDown kills Redis under a running logic node, checks that pushes
// fail naming Redis and that everything works again once Redis is back
// (empty: it keeps nothing on disk), without restarting logic.
func TestRedisDown(t *testing.T) {
	port := freePort(t)
	srv := startRedis(t, port)
	addr := fmt.Sprintf("127.0.0.1:%d/0", port)
	e := newTestEnv(t, func(c *Config) {
		c.Redis = "redis://" + addr
		c.RegistryRefresh = 20 * time.Millisecond
	})
	ctx := context.Background()
	e.addJob(t, "j1")
	before := e.report(t, cometInfo("c1"), map[string]int32{"live://1": 1})
	e.connect(t, "c1", 1, `{"mid":1,"key":"k1"}`)
	const (
		keys = "/goim/push/keys?operation=1&keys=k1"
		mids = "/goim/push/mids?operation=1&mids=1"
		room = "/goim/push/room?operation=1&type=live&room=1"
	)
	if code, msg := pushAnswer(t, e, keys); code != 0 {
		t.Fatalf("push with Redis up: %d %q", code, msg)
	}

	killRedis(srv)
	unreachable := "redis at " + addr + " unreachable"
	for _, target := range []string{keys, mids} {
		if code, msg := pushAnswer(t, e, target); code != CodeServerErr || !strings.Contains(msg, unreachable) {
			t.Errorf("push with Redis down: %d %q, want -500 with %q", code, msg, unreachable)
		}
	}
	// Room pushes need only the registry snapshot: they go on while its
	// nodes' last reports are recent.
	if code, msg := pushAnswer(t, e, room); code != 0 {
		t.Errorf("room push with Redis down, snapshot fresh: %d %q", code, msg)
	}
	if _, err := e.l.Connect(ctx, &logicrpc.ConnectReq{Server: "c1", ConnID: 2, Token: []byte(`{"key":"k2"}`)}); !errors.Is(err, ErrRedis) {
		t.Errorf("connect with Redis down: %v, want ErrRedis", err)
	}
	if _, err := e.l.Report(ctx, &logicrpc.ReportReq{Node: cometInfo("c1")}); !errors.Is(err, ErrRedis) {
		t.Errorf("report with Redis down: %v, want ErrRedis", err)
	}
	testwait.For(t, 5*time.Second, "a failed registry refresh", func() bool { return e.l.nodes.err() != nil })
	e.clock.Advance(DefaultNodeTTL + time.Second) // the snapshot's nodes age out
	if code, msg := pushAnswer(t, e, room); code != CodeServerErr ||
		!strings.Contains(msg, "no job node available (node registry not refreshed: ") || !strings.Contains(msg, unreachable) {
		t.Errorf("room push with Redis down, snapshot stale: %d %q", code, msg)
	}
	st := e.l.Stats()
	if st.StoreErrors == 0 || st.StoreErrors > st.StoreOps || st.PushFailures.Keys != 1 || st.PushFailures.Mids != 1 {
		t.Errorf("stats with Redis down: store ops %d errors %d, push failures %+v", st.StoreOps, st.StoreErrors, st.PushFailures)
	}

	startRedis(t, port)
	testwait.For(t, 10*time.Second, "the registry refresh to work again", func() bool { return e.l.nodes.err() == nil })
	// Nodes re-report and comets renew their sessions, as they do
	// periodically; the new Redis knew nothing.
	if code, msg := pushAnswer(t, e, keys); code != 0 || msg != "" {
		t.Errorf("push after Redis came back: %d %q", code, msg)
	}
	e.addJob(t, "j1")
	// The new Redis has a new epoch: comets take it as a restart and
	// re-send their sessions.
	if after := e.report(t, cometInfo("c1"), map[string]int32{"live://1": 1}); after.Known || after.Epoch == before.Epoch {
		t.Errorf("report to the new Redis: known %v, epoch %d (was %d)", after.Known, after.Epoch, before.Epoch)
	}
	must(t, e.l.Heartbeat(ctx, &logicrpc.HeartbeatReq{Mid: 1, Key: "k1", Server: "c1", ConnID: 1}))
	for _, target := range []string{keys, mids, room} {
		if code, msg := pushAnswer(t, e, target); code != 0 {
			t.Errorf("push after recovery: %d %q", code, msg)
		}
	}
	if res, err := e.l.PushKeys(ctx, 1, []string{"k1"}, []byte("m")); err != nil || res.Conns != 1 {
		t.Errorf("push after the heartbeat restored k1: %+v, %v", res, err)
	}
}

// TestRedisUnreachableAtStart starts logic with nothing listening at the
// Redis address: New succeeds, and pushes and reports fail naming Redis.
func TestRedisUnreachableAtStart(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d/3", freePort(t))
	e := newTestEnv(t, func(c *Config) { c.Redis = "redis://" + addr })
	code, msg := pushAnswer(t, e, "/goim/push/keys?operation=1&keys=k1")
	if want := "look up keys: redis at " + addr + " unreachable"; code != CodeServerErr || !strings.HasPrefix(msg, want) {
		t.Errorf("push: %d %q, want -500 starting %q", code, msg, want)
	}
	if _, err := e.l.Report(context.Background(), &logicrpc.ReportReq{Node: cometInfo("c1")}); !errors.Is(err, ErrRedis) {
		t.Errorf("report: %v, want ErrRedis", err)
	}
	if st := e.l.Stats(); st.StoreErrors < 3 || st.StoreErrors != st.StoreOps {
		t.Errorf("stats: store ops %d, errors %d", st.StoreOps, st.StoreErrors)
	}
}

// TestRedisConfigErrors checks the Config checks of New.
func TestRedisConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Redis: "http://127.0.0.1:6379"},
		{Redis: "redis://127.0.0.1:6379/x"},
		{Redis: "redis://127.0.0.1:6379/0", Sessions: NewMemoryStore(MemoryStoreConfig{})},
	} {
		if l, err := New(cfg, discardLogger()); err == nil {
			l.Close()
			t.Errorf("New(%q, sessions %v) succeeded", cfg.Redis, cfg.Sessions != nil)
		}
	}
}
