package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/internal/testcert"
	"github.com/goimx/goim/job"
	"github.com/goimx/goim/logic"
	"github.com/goimx/goim/rpc"
	"github.com/goimx/goim/server"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// parseApp parses args for app, failing the test on error.
func parseApp(t *testing.T, app *App, args ...string) {
	t.Helper()
	var out bytes.Buffer
	app.getenv = func(string) string { return "" } // not the test's environment
	if code, ok := app.parse(args, &out); !ok {
		t.Fatalf("parse %v: status %d: %s", args, code, out.String())
	}
}

// TestLogicDefaults: without flags, the logic Config is the tier's
// defaults.
func TestLogicDefaults(t *testing.T) {
	app := NewApp("logic", "")
	lf := app.Logic("")
	parseApp(t, app)
	want := server.LogicConfig{Logic: logic.DefaultConfig(), HTTPAddr: ":3111", RPCAddr: ":3119"}
	want.Logic.JobClient = rpc.ClientConfig{MaxFrameSize: rpc.DefaultMaxFrameSize, MinBackoff: 50 * time.Millisecond, MaxBackoff: 5 * time.Second}
	want.Logic.RPCServer = rpc.ServerConfig{MaxFrameSize: rpc.DefaultMaxFrameSize, MaxInflight: 1024}
	got := lf.Config()
	opts := cmpopts.IgnoreFields(logic.Config{}, "Now", "RegionOf", "ReceiveHook", "DialJob", "Sessions")
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("logic defaults (-want +got):\n%s", diff)
	}
}

func TestLogicFlags(t *testing.T) {
	app := NewApp("logic", "")
	lf := app.Logic("")
	parseApp(t, app, "-http", "127.0.0.1:1", "-rpc", "127.0.0.1:2", "-node-ttl", "2s", "-heartbeat", "10s",
		"-heartbeat-max", "5", "-max-message", "100", "-tcp-port", "4101", "-backoff-max-delay", "60",
		"-backoff-factor", "2", "-push-timeout", "1s", "-rpc-max-backoff", "20ms", "-region-factor", "1")
	lc := lf.Config()
	got := lc.Logic
	checks := []struct {
		name      string
		got, want any
	}{
		{"HTTPAddr", lc.HTTPAddr, "127.0.0.1:1"},
		{"RPCAddr", lc.RPCAddr, "127.0.0.1:2"},
		{"NodeTTL", got.NodeTTL, 2 * time.Second},
		{"Heartbeat", got.Heartbeat, 10 * time.Second},
		{"HeartbeatMax", got.HeartbeatMax, 5},
		{"MaxMessageSize", got.MaxMessageSize, 100},
		{"TCPPort", got.TCPPort, 4101},
		{"Backoff", got.Backoff, logic.Backoff{MaxDelay: 60, BaseDelay: 3, Factor: 2, Jitter: 0.3}},
		{"PushTimeout", got.PushTimeout, time.Second},
		{"JobClient.MaxBackoff", got.JobClient.MaxBackoff, 20 * time.Millisecond},
		{"JobClient.MinBackoff", got.JobClient.MinBackoff, 20 * time.Millisecond},
		{"RegionFactor", got.RegionFactor, 1.0},
	}
	for _, c := range checks {
		if !cmp.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestCometDefaults: without flags, the comet Config holds the tier's
// documented defaults.
func TestCometDefaults(t *testing.T) {
	app := NewApp("comet", "")
	cf := app.Comet("", true)
	parseApp(t, app)
	want := server.CometConfig{
		TCPAddrs: []string{":3101"}, WSAddr: ":3102", RPCAddr: ":3109", LogicAddr: "127.0.0.1:3119", RegisterWait: 5 * time.Second,
		LogicClient: rpc.ClientConfig{MaxFrameSize: rpc.DefaultMaxFrameSize, MinBackoff: 50 * time.Millisecond, MaxBackoff: 5 * time.Second},
		Comet: comet.Config{
			Weight: 10, Buckets: 32, RoomWorkers: 2, RoomQueue: 1024, MaxBody: 4096,
			HandshakeTimeout: 5 * time.Second, HeartbeatTimeout: 8 * time.Minute, RenewInterval: 10 * time.Minute,
			SendQueueBytes: 1 << 20, WriteTimeout: 10 * time.Second, LogicTimeout: 5 * time.Second, ReportInterval: 3 * time.Second,
			WSPath: "/sub", RPC: rpc.ServerConfig{MaxFrameSize: rpc.DefaultMaxFrameSize, MaxInflight: 1024},
			MaxConnsPerIP: 1024, AuthRatePerIP: 128, MsgRate: 64, MaxRooms: 16,
			DrainDuration: time.Minute,
		},
	}
	if diff := cmp.Diff(want, cf.Config(), cmpopts.IgnoreUnexported(comet.Config{})); diff != "" {
		t.Errorf("comet defaults (-want +got):\n%s", diff)
	}
}

func TestCometFlags(t *testing.T) {
	app := NewApp("goim", "")
	cf := app.Comet(CometPrefix, false)
	parseApp(t, app, "-comet.tcp", "-", "-comet.ws", "127.0.0.1:9", "-comet.node-id", "c1",
		"-comet.addrs", "1.2.3.4,5.6.7.8", "-comet.slow-policy", "close", "-comet.renew-interval", "-1s",
		"-comet.weight", "3", "-comet.offline", "-comet.origins", "https://a,https://b")
	cc := cf.Config()
	got := cc.Comet
	checks := []struct {
		name      string
		got, want any
	}{
		{"TCPAddrs", cc.TCPAddrs, []string{server.NoListen}},
		{"WSAddr", cc.WSAddr, "127.0.0.1:9"},
		{"NodeID", got.NodeID, "c1"},
		{"Addrs", got.Addrs, []string{"1.2.3.4", "5.6.7.8"}},
		{"SlowPolicy", got.SlowPolicy, comet.SlowClose},
		{"RenewInterval", got.RenewInterval, -time.Second},
		{"Weight", got.Weight, int32(3)},
		{"Offline", got.Offline, true},
		{"AllowedOrigins", got.AllowedOrigins, []string{"https://a", "https://b"}},
	}
	for _, c := range checks {
		if !cmp.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestCometCert(t *testing.T) {
	certFile, keyFile := testcert.New(t).WriteFiles(t)
	app := NewApp("comet", "")
	cf := app.Comet("", true)
	parseApp(t, app, "-cert", certFile, "-key", keyFile)
	if got := cf.Config(); got.CertFile != certFile || got.KeyFile != keyFile {
		t.Errorf("with a certificate: CertFile %q, KeyFile %q; want %q, %q", got.CertFile, got.KeyFile, certFile, keyFile)
	}

	app = NewApp("comet", "")
	app.Comet("", true)
	var out bytes.Buffer
	if code, ok := app.parse([]string{"-cert", keyFile, "-key", keyFile}, &out); ok || code != ExitUsage ||
		!strings.Contains(out.String(), "-cert: server: load certificate") {
		t.Errorf("bad certificate: status %d, output %q; want 2 and an error naming -cert", code, out.String())
	}
}

// TestJobDefaults: without flags, the job Config holds the tier's
// defaults.
func TestJobDefaults(t *testing.T) {
	app := NewApp("job", "")
	jf := app.Job("", true)
	parseApp(t, app)
	want := server.JobConfig{
		RPCAddr: ":3129", LogicAddr: "127.0.0.1:3119",
		Job: job.Config{
			BatchSize: job.DefaultBatchSize, BatchBytes: job.DefaultBatchBytes, BatchWindow: job.DefaultBatchWindow,
			RoomIdleTimeout: job.DefaultRoomIdleTimeout, CometQueueSize: job.DefaultCometQueueSize,
			CometRefresh: job.DefaultCometRefresh, ReportInterval: job.DefaultReportInterval,
			HistorySize: job.DefaultHistorySize, HistoryAge: job.DefaultHistoryAge,
			Server: rpc.ServerConfig{MaxFrameSize: rpc.DefaultMaxFrameSize, MaxInflight: 1024},
			Client: rpc.ClientConfig{MaxFrameSize: rpc.DefaultMaxFrameSize, MinBackoff: 50 * time.Millisecond, MaxBackoff: 5 * time.Second},
		},
	}
	if diff := cmp.Diff(want, jf.Config(), cmpopts.IgnoreFields(job.Config{}, "Logic", "DialComet")); diff != "" {
		t.Errorf("job defaults (-want +got):\n%s", diff)
	}
}

func TestJobFlags(t *testing.T) {
	app := NewApp("goim", "")
	jf := app.Job(JobPrefix, false)
	parseApp(t, app, "-job.batch-size", "1", "-job.batch-window", "-1ms", "-job.comet-refresh", "50ms", "-job.node-id", "j")
	got := jf.Config().Job
	if got.BatchSize != 1 || got.BatchWindow != -time.Millisecond || got.CometRefresh != 50*time.Millisecond || got.NodeID != "j" {
		t.Errorf("job config %+v", got)
	}
	if app.fs.Lookup("job.logic") != nil {
		t.Error("the all-in-one binary has -job.logic")
	}
}

// TestChecks: flags that do not go together are usage errors naming the
// flag.
func TestChecks(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-cert", "c.pem"}, "-cert: -cert and -key go together"},
		{[]string{"-key", "k.pem"}, "-cert: -cert and -key go together"},
		{[]string{"-wss", ":3103"}, "-wss: needs -cert and -key"},
		{[]string{"-tcp-tls", ":3104"}, "-tcp-tls: needs -cert and -key"},
		{[]string{"-slow-policy", "x"}, "-slow-policy"},
		{[]string{"-tcp", ""}, "-tcp: empty"},
		{[]string{"-log-level", "x"}, "-log-level"},
		{[]string{"-log-format", "x"}, "-log-format"},
	}
	for _, tt := range tests {
		app := NewApp("comet", "")
		app.Comet("", true)
		var out bytes.Buffer
		code, ok := app.parse(tt.args, &out)
		if ok || code != ExitUsage || !strings.Contains(out.String(), tt.want) {
			t.Errorf("%v: status %d ok %v, output %q; want status 2 and %q", tt.args, code, ok, out.String(), tt.want)
		}
	}
}

// TestLinks: -links takes rpc (the default) or direct; anything else is a
// usage error naming the flag.
func TestLinks(t *testing.T) {
	tests := []struct {
		args []string
		want string // the value, or the usage error
		ok   bool
	}{
		{nil, "rpc", true},
		{[]string{"-links", "rpc"}, "rpc", true},
		{[]string{"-links", "direct"}, "direct", true},
		{[]string{"-links", "inproc"}, `-links: "inproc" is not rpc or direct`, false},
		{[]string{"-links", ""}, `-links: "" is not rpc or direct`, false},
		{[]string{"-links", "RPC"}, `-links: "RPC" is not rpc or direct`, false},
	}
	for _, tt := range tests {
		app := NewApp("goim", "")
		app.AllInOne()
		var out bytes.Buffer
		code, ok := app.parse(tt.args, &out)
		switch {
		case ok != tt.ok:
			t.Errorf("%v: ok %v status %d, want ok %v: %s", tt.args, ok, code, tt.ok, out.String())
		case !ok && (code != ExitUsage || !strings.Contains(out.String(), tt.want)):
			t.Errorf("%v: status %d, output %q; want status 2 and %q", tt.args, code, out.String(), tt.want)
		case ok && app.fs.Lookup("links").Value.String() != tt.want:
			t.Errorf("%v: -links %s, want %s", tt.args, app.fs.Lookup("links").Value, tt.want)
		}
	}
}

func TestUsage(t *testing.T) {
	app := NewApp("goim", "about goim")
	app.AllInOne()
	var out bytes.Buffer
	code, ok := app.parse([]string{"-h"}, &out)
	if ok || code != ExitOK {
		t.Fatalf("-h: status %d ok %v", code, ok)
	}
	s := out.String()
	if miss := containsAll(s, "Usage: goim [flags]", "about goim", "\nFlags:\n", "Flags of the comet tier:",
		"Flags of the logic tier:", "Flags of the job tier:", "  -comet.tcp list\n", "(default :3101)",
		"  -logic.node-ttl duration\n", "(default 10s)", `(default "info")`, "needs -comet.cert and -comet.key"); miss != "" {
		t.Errorf("usage lacks %q:\n%s", miss, s)
	}
	if strings.Contains(s, "-comet.logic ") || strings.Contains(s, "(default 0)") {
		t.Errorf("usage has a -comet.logic flag or a zero default:\n%s", s)
	}
}

func TestIsSet(t *testing.T) {
	app := NewApp("goim", "")
	app.AllInOne()
	parseApp(t, app, "-logic.tcp-port", "4000")
	if !app.IsSet("logic.tcp-port") || app.IsSet("logic.ws-port") {
		t.Errorf("IsSet: tcp-port %v, ws-port %v", app.IsSet("logic.tcp-port"), app.IsSet("logic.ws-port"))
	}
}

// TestAllInOneConfig: the all-in-one logic's advertised client ports
// are zero (following the comet's) unless given.
func TestAllInOneConfig(t *testing.T) {
	app := NewApp("goim", "")
	links := app.linksFlag()
	lf := app.Logic(LogicPrefix)
	cf := app.Comet(CometPrefix, false)
	jf := app.Job(JobPrefix, false)
	parseApp(t, app, "-links", "direct", "-comet.tcp", "-,:4101", "-logic.wss-port", "443")
	got := app.allInOneConfig(*links, lf, cf, jf)
	if lc := got.Logic.Logic; lc.TCPPort != 0 || lc.WSPort != 0 || lc.WSSPort != 443 {
		t.Errorf("ports tcp %d ws %d wss %d, want 0 0 443", lc.TCPPort, lc.WSPort, lc.WSSPort)
	}
	if got.Links != server.LinksDirect || !cmp.Equal(got.Comet.TCPAddrs, []string{"-", ":4101"}) {
		t.Errorf("links %q, comet tcp %q", got.Links, got.Comet.TCPAddrs)
	}
}
