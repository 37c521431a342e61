package e2e

import (
	"net"
	"strings"
	"testing"
)

// TestHelp: -h prints every binary's flags with their defaults and exits
// with status 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	common := []string{"-log-level", "-log-format", "-debug-addr", "-shutdown-timeout", "-stats-interval",
		"-cluster-secret-file", "-rpc-cert", "-rpc-key", "-rpc-ca", "-insecure-rpc"}
	tests := []struct {
		bin   string
		flags []string
	}{
		{"comet", []string{"-logic addr", "-tcp list", "-ws addr", "-wss addr", "-rpc addr", "-node-id", "-cert", "-report-interval", "(default :3101)", "(default :3102)", "(default :3109)"}},
		{"logic", []string{"-http addr", "-rpc addr", "-node-ttl", "-heartbeat", "-push-timeout", "(default :3111)", "(default :3119)",
			"-token-secret-file", "-api-keys-file", "-public-queries", "-max-push-targets", "-max-header-bytes"}},
		{"job", []string{"-logic addr", "-rpc addr", "-node-id", "-batch-size", "-comet-refresh", "(default :3129)", "(default 127.0.0.1:3119)"}},
		{"goim", []string{"-comet.tcp", "-comet.ws", "-logic.http", "-logic.rpc", "-job.rpc", "-job.batch-size", "Flags of the comet tier",
			"(default 127.0.0.1:3109)", "(default 127.0.0.1:3119)", "(default 127.0.0.1:3129)", "-logic.token-secret-file", "-comet.max-conns-per-ip"}},
	}
	for _, tt := range tests {
		out, status := run(t, tt.bin, "-h")
		if status != 0 {
			t.Errorf("%s -h: exit status %d, want 0", tt.bin, status)
		}
		if !strings.HasPrefix(out, "Usage: "+tt.bin) {
			t.Errorf("%s -h does not start with its usage line:\n%s", tt.bin, out)
		}
		for _, want := range append(tt.flags, common...) {
			if !strings.Contains(out, want) {
				t.Errorf("%s -h lacks %q:\n%s", tt.bin, want, out)
			}
		}
	}
	if out, status := run(t, "goim-client", "-h"); status != 0 || !strings.Contains(out, "-key") || strings.Contains(out, "help requested") {
		t.Errorf("goim-client -h: exit status %d, want 0 and the flags:\n%s", status, out)
	}
	if out, _ := run(t, "goim", "-h"); strings.Contains(out, "-comet.logic ") || strings.Contains(out, "-job.logic ") {
		t.Errorf("goim -h offers a logic address to dial; its tiers dial their own logic:\n%s", out)
	}
}

// TestBadFlags: a bad command line exits with status 2 and an error
// naming the flag, before anything starts.
func TestBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bin  string
		args []string
		want string
	}{
		{"comet", []string{"-tcp", "nonsense"}, "-tcp"},
		{"comet", []string{"-cert", "cert.pem"}, "-cert"},
		{"comet", []string{"-wss", ":3103"}, "-wss: needs -cert and -key"},
		{"comet", []string{"-slow-policy", "maybe"}, "-slow-policy"},
		{"comet", []string{"-weight", "0"}, "-weight"},
		{"logic", []string{"-node-ttl", "5"}, "-node-ttl"},
		{"logic", []string{"-max-message", "-1"}, "-max-message"},
		{"job", []string{"-batch-size", "0"}, "-batch-size"},
		{"job", []string{"-logic", "nohost"}, "-logic"},
		{"goim", []string{"-comet.ws", "3102"}, "-comet.ws"},
		{"goim", []string{"-comet.wss", ":3103"}, "-comet.wss: needs -comet.cert and -comet.key"},
		{"goim", []string{"-log-format", "xml"}, "-log-format"},
		{"goim", []string{"-log-level", "loud"}, "-log-level"},
		{"goim", []string{"extra"}, "unexpected arguments"},
		{"goim", []string{"-no-such-flag"}, "-no-such-flag"},
	}
	for _, tt := range tests {
		out, status := run(t, tt.bin, tt.args...)
		if status != 2 || !strings.Contains(out, tt.want) {
			t.Errorf("%s %v: exit status %d, output:\n%s\nwant status 2 and %q", tt.bin, tt.args, status, out, tt.want)
		}
	}
}

// TestStartFailure: a listen address in use makes the binary exit with
// status 1 and an error naming it, and leaves nothing running.
func TestStartFailure(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	free := freePorts(t, 6)
	tests := []struct {
		bin  string
		args []string
	}{
		{"logic", []string{"-http", loop(free[0]), "-rpc", busy}},
		{"comet", []string{"-tcp", loop(free[1]), "-ws", busy, "-rpc", loop(free[2])}},
		{"job", []string{"-rpc", busy}},
		{"goim", []string{"-logic.http", loop(free[3]), "-logic.rpc", loop(free[4]), "-comet.tcp", loop(free[5]), "-comet.ws", busy}},
	}
	for _, tt := range tests {
		out, status := run(t, tt.bin, tt.args...)
		if status != 1 || !strings.Contains(out, busy) || !strings.Contains(out, "start failed") {
			t.Errorf("%s %v: exit status %d, output:\n%s\nwant status 1 and a start error naming %s", tt.bin, tt.args, status, out, busy)
		}
	}
}
