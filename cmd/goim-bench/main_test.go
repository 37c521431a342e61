package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goimx/goim/bench"
	"github.com/goimx/goim/internal/leaktest"
)

// fakeServerEnv turns the test binary into a server for -server-cmd: it
// listens on the comma-separated addresses in its value, accepts and holds
// connections, and exits on SIGTERM.
const fakeServerEnv = "GOIM_BENCH_FAKE_SERVER"

// asMainEnv turns the test binary into goim-bench itself, for the member
// processes that -generators starts (copies of the running program).
const asMainEnv = "GOIM_BENCH_AS_MAIN"

func TestMain(m *testing.M) {
	if addrs := os.Getenv(fakeServerEnv); addrs != "" {
		os.Exit(fakeServer(strings.Split(addrs, ",")))
	}
	if os.Getenv(asMainEnv) != "" {
		main()
		os.Exit(0)
	}
	leaktest.Main(m, 10*time.Second, "github.com/goimx/goim/")
}

// fakeServer is the -server-cmd stand-in's main.
func fakeServer(addrs []string) int {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		go func() {
			for {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				defer nc.Close()
			}
		}()
	}
	<-sig
	return 0
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
		check   func(o *options) string
	}{
		{nil, false, func(o *options) string {
			if o.scenario != scenarioRoom || o.addr != "127.0.0.1:3101" || o.label != scenarioRoom || len(o.rates) != 6 {
				return fmt.Sprintf("defaults: %+v", o)
			}
			return ""
		}},
		{[]string{"-transport", "ws"}, false, func(o *options) string {
			if o.addr != "127.0.0.1:3102" {
				return "ws address " + o.addr
			}
			return ""
		}},
		{[]string{"-scenario", "lone"}, false, func(o *options) string {
			if o.rate != 20 {
				return fmt.Sprintf("lone rate %v", o.rate)
			}
			return ""
		}},
		{[]string{"-pids", "3,4", "-procname", "goim, comet", "-rates", "1,2.5"}, false, func(o *options) string {
			if len(o.pids) != 2 || len(o.procNames) != 2 || o.procNames[1] != "comet" || o.rates[1] != 2.5 {
				return fmt.Sprintf("lists: %v %q %v", o.pids, o.procNames, o.rates)
			}
			return ""
		}},
		{[]string{"-scenario", "nope"}, true, nil},
		{[]string{"-transport", "wss"}, true, nil},
		{[]string{"-conns", "0"}, true, nil},
		{[]string{"-rates", "1,x"}, true, nil},
		{[]string{"-rates", "0"}, true, nil},
		{[]string{"-pids", "-1"}, true, nil},
		{[]string{"-duration", "0"}, true, nil},
		{[]string{"-local-ips", "300"}, true, nil},
		{[]string{"-reader", "poll"}, true, nil},
		{[]string{"-http", "10.0.0.1:3111"}, true, nil},
		{[]string{"-addr", "example.com:3101"}, true, nil},
		{[]string{"-addr", "ws://192.168.1.1:3102/sub", "-transport", "ws"}, true, nil},
		{[]string{"-server-pprof", "8.8.8.8:6060"}, true, nil},
		{[]string{"-addr", "nocolon"}, true, nil},
		{[]string{"-addr", "localhost:3101", "-http", "[::1]:3111", "-server-pprof", "127.0.0.9:6060"}, false, nil},
		{[]string{"-addr", "ws://127.0.0.1:3102/sub", "-transport", "ws"}, false, nil},
		{[]string{"extra"}, true, nil},
		{[]string{"-local-ip-first", "250", "-local-ips", "8"}, true, nil},
		{[]string{"-local-ip-first", "0"}, true, nil},
		{[]string{"-mid-base", "0"}, true, nil},
		{[]string{"-generators", "0"}, true, nil},
		{[]string{"-generators", "255", "-conns", "1000", "-local-ips", "0"}, true, nil},
		{[]string{"-generators", "2", "-scenario", "keys"}, true, nil},
		{[]string{"-generators", "2", "-conns", "1"}, true, nil},
		{[]string{"-generators", "9", "-local-ips", "8"}, true, nil},
		{[]string{"-generators", "52", "-conns", "1000000", "-local-ips", "208", "-scenario", "all"}, false, func(o *options) string {
			args := strings.Join(memberArgs(o, 51), " ")
			// 1,000,000 = 52 x 19,230 + 40: the last member has no extra
			// connection and starts at connection 51 x 19,230 + 40 =
			// 980,770, user 1 + 980,770/2 (two devices per user).
			for _, want := range []string{"-conns 19230 ", "-local-ips 4 ", "-local-ip-first 205 ", "-key-prefix bench-g51 ", "-mid-base 490386 "} {
				if !strings.Contains(args, want) {
					return fmt.Sprintf("member 51: %s lacks %q", args, want)
				}
			}
			return ""
		}},
	}
	for _, tt := range tests {
		o, err := parseFlags(tt.args, io.Discard)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err %v", tt.args, err)
			continue
		}
		if err == nil && tt.check != nil {
			if msg := tt.check(o); msg != "" {
				t.Errorf("%q: %s", tt.args, msg)
			}
		}
	}
}

// TestRunScenarios runs every scenario, tiny, against an in-process
// cluster, and checks the JSON results.
func TestRunScenarios(t *testing.T) {
	c, err := bench.StartCluster(bench.ClusterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	base := []string{"-http", c.HTTPAddr, "-conns", "10", "-progress", "50ms", "-json", "-", "-drain", "2s", "-pause", "10ms", "-local-ips", "2"}
	tests := []struct {
		args  []string
		runs  int
		check func(r *report) string
	}{
		{[]string{"-scenario", "idle", "-addr", c.TCPAddr, "-settle", "10ms", "-pids", fmt.Sprint(os.Getpid())}, 0, func(r *report) string {
			if r.Idle == nil || r.Idle.Conns != 10 || len(r.Idle.Procs) != 2 { // the pid given and the generator
				return fmt.Sprintf("idle %+v", r.Idle)
			}
			return ""
		}},
		{[]string{"-scenario", "room", "-addr", c.TCPAddr, "-count", "5"}, 1, nil},
		{[]string{"-scenario", "keys", "-addr", c.WSAddr, "-transport", "ws", "-count", "20", "-reader", "epoll"}, 1, nil},
		{[]string{"-scenario", "room", "-addr", c.WSAddr, "-transport", "ws", "-count", "5"}, 1, nil},
		{[]string{"-scenario", "mids", "-addr", c.TCPAddr, "-count", "20", "-devices", "2", "-key-prefix", "m"}, 1, nil},
		{[]string{"-scenario", "all", "-addr", c.TCPAddr, "-count", "5"}, 1, nil},
		{[]string{"-scenario", "lone", "-addr", c.TCPAddr, "-rate", "100", "-duration", "100ms"}, 2, nil},
		{[]string{"-scenario", "flood", "-addr", c.TCPAddr, "-concurrency", "50", "-count", "500"}, 1, func(r *report) string {
			if run := r.Runs[0]; run.Conns != 1 || run.Expected != 500 || run.Delivered != 500 {
				return fmt.Sprintf("flood: %d conns, %d of %d delivered", run.Conns, run.Delivered, run.Expected)
			}
			return ""
		}},
		{[]string{"-scenario", "knee", "-addr", c.TCPAddr, "-rates", "50,100", "-duration", "100ms", "-p99-bound", "1ns", "-keep-going"}, 2, func(r *report) string {
			if !strings.HasPrefix(r.Knee, "failed first at 50 msg/s: p99") {
				return "knee: " + r.Knee
			}
			return ""
		}},
		{[]string{"-scenario", "knee", "-addr", c.TCPAddr, "-rates", "50,100", "-duration", "100ms", "-svg", filepath.Join(dir, "knee.svg")}, 2, func(r *report) string {
			if r.Knee != "every rate passed" {
				return "knee: " + r.Knee
			}
			if b, err := os.ReadFile(filepath.Join(dir, "knee.svg")); err != nil || !bytes.Contains(b, []byte("<svg")) {
				return fmt.Sprintf("svg: %v", err)
			}
			return ""
		}},
	}
	for _, tt := range tests {
		r, errOut := runJSON(t, append(append([]string{}, base...), tt.args...))
		if len(r.Runs) != tt.runs {
			t.Fatalf("%q: %d runs, want %d", tt.args, len(r.Runs), tt.runs)
		}
		for _, res := range r.Runs {
			if !res.AllDelivered() || res.Delivered == 0 {
				t.Errorf("%q: %s/%s delivered %d of %d, failed %d (%s)", tt.args, res.Scenario, res.Kind, res.Delivered, res.Expected, res.Failed, res.FirstErr)
			}
		}
		if tt.check != nil {
			if msg := tt.check(&r); msg != "" {
				t.Errorf("%q: %s", tt.args, msg)
			}
		}
		if tt.runs > 0 && !strings.Contains(errOut, "conns") {
			t.Errorf("%q: no progress line in %q", tt.args, errOut)
		}
	}
}

// runJSON runs goim-bench with args (which write the JSON report to
// stdout) and returns the report and what went to stderr.
func runJSON(t *testing.T, args []string) (report, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, args, &out, &errOut); err != nil {
		t.Fatalf("%q: %v\n%s", args, err, errOut.String())
	}
	var r report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%q: %v\n%s", args, err, out.String())
	}
	return r, errOut.String()
}

// TestRunGenerators spreads the connections over member processes:
// every push must reach every connection of every member, and the
// members' pids are sampled.
func TestRunGenerators(t *testing.T) {
	t.Setenv(asMainEnv, "1") // the members are copies of the test binary
	c, err := bench.StartCluster(bench.ClusterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	base := []string{"-http", c.HTTPAddr, "-addr", c.TCPAddr, "-conns", "11", "-generators", "3", "-local-ips", "6",
		"-progress", "0", "-json", "-", "-drain", "2s", "-reader", "epoll"}
	tests := []struct {
		args []string
		runs int
	}{
		{[]string{"-scenario", "idle", "-settle", "10ms"}, 0},
		{[]string{"-scenario", "room", "-count", "5"}, 1},
		{[]string{"-scenario", "all", "-rate", "50", "-count", "5"}, 1},
		{[]string{"-scenario", "scale", "-settle", "10ms", "-rate", "50", "-count", "5", "-pause", "10ms"}, 2},
	}
	for _, tt := range tests {
		r, _ := runJSON(t, append(append([]string{}, base...), tt.args...))
		if len(r.Pids) != 4 { // the generator and its three members
			t.Errorf("%q: pids %v, want 4", tt.args, r.Pids)
		}
		if len(r.Runs) != tt.runs {
			t.Fatalf("%q: %d runs, want %d", tt.args, len(r.Runs), tt.runs)
		}
		if (tt.runs == 0 || tt.args[1] == "scale") && (r.Idle == nil || r.Idle.Conns != 11 || len(r.Idle.Procs) != 4) {
			t.Errorf("%q: idle %+v", tt.args, r.Idle)
		}
		for _, res := range r.Runs {
			if !res.AllDelivered() || res.Conns != 11 || res.Expected != 55 {
				t.Errorf("%q: %d connections, delivered %d of %d, failed %d (%s)", tt.args, res.Conns, res.Delivered, res.Expected, res.Failed, res.FirstErr)
			}
		}
	}
}

// TestRunTable checks the human-readable output and the JSON file.
func TestRunTable(t *testing.T) {
	c, err := bench.StartCluster(bench.ClusterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	js := filepath.Join(t.TempDir(), "r.json")
	var out bytes.Buffer
	args := []string{"-http", c.HTTPAddr, "-addr", c.TCPAddr, "-conns", "3", "-count", "3", "-progress", "0", "-json", js, "-label", "tbl"}
	if err := run(context.Background(), args, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"scenario", "tbl", "machine:", "CPU %"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(js)
	if err != nil || !json.Valid(b) {
		t.Errorf("JSON file: %v", err)
	}
}

func TestRunErrors(t *testing.T) {
	tests := [][]string{
		{"-scenario", "nope"},
		{"-conns", "1000000"},                                           // beyond the open-file limit
		{"-procname", "no-such-process-name"},                           // nothing to sample
		{"-http", "127.0.0.1:1", "-addr", "127.0.0.1:1", "-conns", "1"}, // nothing listening
	}
	for _, args := range tests {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
	if err := run(context.Background(), []string{"-h"}, io.Discard, io.Discard); err != nil {
		t.Errorf("-h: %v", err)
	}
}

// TestServerCmd starts the test binary as a stand-in server and stops it.
func TestServerCmd(t *testing.T) {
	addrs := freeAddrs(t, 2)
	t.Setenv(fakeServerEnv, strings.Join(addrs, ","))
	o := &options{serverCmd: os.Args[0] + " -test.run=^$", addr: addrs[0], httpAddr: addrs[1], serverWait: 10 * time.Second, stderr: io.Discard,
		serverLog: filepath.Join(t.TempDir(), "server.log")}
	s, err := startServer(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := serverPids(o, s)
	if err != nil || len(pids) != 2 || pids[0] != s.pid() {
		t.Errorf("pids %v, %v", pids, err)
	}
	if _, err := bench.ReadProc(s.pid()); err != nil {
		t.Errorf("server not running: %v", err)
	}
	s.stop()
	if _, err := bench.ReadProc(s.pid()); !errors.Is(err, bench.ErrNoProc) {
		t.Errorf("server still running: %v", err)
	}

	o.serverCmd = "/no/such/binary"
	if _, err := startServer(context.Background(), o); err == nil {
		t.Error("a missing binary started")
	}
	o.serverCmd, o.serverWait = "sleep 30", 200*time.Millisecond
	if _, err := startServer(context.Background(), o); err == nil {
		t.Error("a server that never listens was accepted")
	}
}

// freeAddrs returns n loopback addresses that were free a moment ago.
func freeAddrs(t *testing.T, n int) []string {
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, ln.Addr().String())
		ln.Close()
	}
	return addrs
}

// TestProfiler fetches profiles from a stand-in debug server.
func TestProfiler(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/debug/pprof/allocs", "/debug/pprof/profile", "/debug/pprof/heap":
			io.WriteString(w, r.URL.Path+"?"+r.URL.RawQuery)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	o := &options{serverPprof: strings.TrimPrefix(srv.URL, "http://"), profileDir: dir}
	p, err := newProfiler(o)
	if err != nil || p == nil {
		t.Fatalf("newProfiler: %v, %v", p, err)
	}
	name := profileName("knee", "room", 12.5)
	p.begin(context.Background(), name, 3)
	if err := p.end(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"knee-room-12.5-cpu.pprof":           "/debug/pprof/profile?seconds=3",
		"knee-room-12.5-allocs-before.pprof": "/debug/pprof/allocs?",
		"knee-room-12.5-allocs-after.pprof":  "/debug/pprof/allocs?",
	} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, %v", file, b, err)
		}
	}
	if err := p.heap(context.Background(), "idle"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "idle-heap.pprof")); string(b) != "/debug/pprof/heap?gc=1" {
		t.Errorf("heap profile %q", b)
	}
	if profileName("x", "keys", 0) != "x-keys-closed" || profileName("x", "room", 50) != "x-room-50" {
		t.Errorf("names %s %s", profileName("x", "keys", 0), profileName("x", "room", 50))
	}
	o.serverPprof = "127.0.0.1:1"
	p, _ = newProfiler(o)
	p.begin(context.Background(), "bad", 1)
	if err := p.end(context.Background(), "bad"); err == nil {
		t.Error("no error from an unreachable server")
	}
	if p, err := newProfiler(&options{}); p != nil || err != nil {
		t.Errorf("profiler without flags: %v, %v", p, err)
	}
}
