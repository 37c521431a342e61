package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/goimx/goim/internal/testcert"
	"github.com/goimx/goim/rpc"
)

const testSecret = "0123456789abcdef0123456789abcdef"

// writeSecret writes secret (with a trailing newline) to a file and
// returns its path.
func writeSecret(t *testing.T, secret string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// rpcConfigs returns every RPC server and client configuration the tiers
// of the all-in-one app are given.
func rpcConfigs(lf *LogicFlags, cf *CometFlags, jf *JobFlags) ([]rpc.ServerConfig, []rpc.ClientConfig) {
	l, c, j := lf.Config(), cf.Config(), jf.Config()
	return []rpc.ServerConfig{l.Logic.RPCServer, c.Comet.RPC, j.Job.Server},
		[]rpc.ClientConfig{l.Logic.JobClient, c.LogicClient, j.Job.Client}
}

// TestClusterSecretFlags: the secret of -cluster-secret-file or of
// GOIM_CLUSTER_SECRET reaches every tier's RPC server and clients; both
// at once, a short secret or a missing file are usage errors naming the
// flag.
func TestClusterSecretFlags(t *testing.T) {
	file := writeSecret(t, testSecret)
	short := writeSecret(t, "short")
	tests := []struct {
		name    string
		args    []string
		env     string
		want    string // the secret expected everywhere
		wantErr string // a usage error containing this
	}{
		{name: "none"},
		{name: "file", args: []string{"-cluster-secret-file", file}, want: testSecret},
		{name: "env", env: testSecret, want: testSecret},
		{name: "both", args: []string{"-cluster-secret-file", file}, env: testSecret, wantErr: "-cluster-secret-file: set -cluster-secret-file or GOIM_CLUSTER_SECRET, not both"},
		{name: "short file", args: []string{"-cluster-secret-file", short}, wantErr: "-cluster-secret-file: rpc: cluster secret of 5 bytes"},
		{name: "short env", env: "short", wantErr: "-cluster-secret-file: GOIM_CLUSTER_SECRET: rpc: cluster secret of 5 bytes"},
		{name: "missing file", args: []string{"-cluster-secret-file", file + ".none"}, wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := NewApp("goim", "")
			lf, cf, jf := app.Logic(LogicPrefix), app.Comet(CometPrefix, false), app.Job(JobPrefix, false)
			app.getenv = func(k string) string {
				if k == ClusterSecretEnv {
					return tt.env
				}
				return ""
			}
			var out bytes.Buffer
			code, ok := app.parse(tt.args, &out)
			if tt.wantErr != "" {
				if ok || code != ExitUsage || !strings.Contains(out.String(), tt.wantErr) {
					t.Fatalf("parse: ok %v status %d, output %q; want a usage error with %q", ok, code, out.String(), tt.wantErr)
				}
				return
			}
			if !ok {
				t.Fatalf("parse: status %d: %s", code, out.String())
			}
			servers, clients := rpcConfigs(lf, cf, jf)
			for i, s := range servers {
				if string(s.Secret) != tt.want {
					t.Errorf("server %d secret %q, want %q", i, s.Secret, tt.want)
				}
			}
			for i, c := range clients {
				if string(c.Secret) != tt.want {
					t.Errorf("client %d secret %q, want %q", i, c.Secret, tt.want)
				}
			}
		})
	}
}

// TestRPCTLSFlags: -rpc-cert and -rpc-key give every RPC server and
// client TLS; -rpc-ca makes it mutual (a client certificate required),
// which counts as authenticated for the exposure rule.
func TestRPCTLSFlags(t *testing.T) {
	certFile, keyFile := testcert.New(t).WriteFiles(t)
	for _, tt := range []struct {
		name    string
		args    []string
		mutual  bool
		wantErr string
	}{
		{name: "tls", args: []string{"-rpc-cert", certFile, "-rpc-key", keyFile}},
		{name: "mutual", args: []string{"-rpc-cert", certFile, "-rpc-key", keyFile, "-rpc-ca", certFile}, mutual: true},
		{name: "cert alone", args: []string{"-rpc-cert", certFile}, wantErr: "-rpc-cert: -rpc-cert and -rpc-key go together"},
		{name: "ca alone", args: []string{"-rpc-ca", certFile}, wantErr: "-rpc-ca: needs -rpc-cert and -rpc-key"},
		{name: "bad cert", args: []string{"-rpc-cert", keyFile, "-rpc-key", keyFile}, wantErr: "-rpc-cert: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := NewApp("goim", "")
			lf, cf, jf := app.Logic(LogicPrefix), app.Comet(CometPrefix, false), app.Job(JobPrefix, false)
			app.getenv = func(string) string { return "" }
			var out bytes.Buffer
			_, ok := app.parse(tt.args, &out)
			if tt.wantErr != "" {
				if ok || !strings.Contains(out.String(), tt.wantErr) {
					t.Fatalf("parse: ok %v, output %q; want %q", ok, out.String(), tt.wantErr)
				}
				return
			}
			if !ok {
				t.Fatalf("parse: %s", out.String())
			}
			servers, clients := rpcConfigs(lf, cf, jf)
			for i, s := range servers {
				if s.TLSConfig == nil || (s.TLSConfig.ClientCAs != nil) != tt.mutual {
					t.Errorf("server %d TLS %v, want mutual %v", i, s.TLSConfig != nil, tt.mutual)
				}
			}
			for i, c := range clients {
				if c.TLSConfig == nil || len(c.TLSConfig.Certificates) != 1 {
					t.Errorf("client %d TLS %v, want one with the certificate", i, c.TLSConfig != nil)
				}
			}
			if got := app.sec.authenticated(); got != tt.mutual {
				t.Errorf("authenticated %v, want %v", got, tt.mutual)
			}
		})
	}
}

// TestAllInOneRPCDefaults: the all-in-one's RPC listeners default to
// loopback; the separate binaries' to every interface.
func TestAllInOneRPCDefaults(t *testing.T) {
	app := NewApp("goim", "")
	app.AllInOne()
	for name, want := range map[string]string{"logic.rpc": "127.0.0.1:3119", "comet.rpc": "127.0.0.1:3109", "job.rpc": "127.0.0.1:3129"} {
		if f := app.fs.Lookup(name); f.DefValue != want || f.Value.String() != want {
			t.Errorf("-%s default %q (value %q), want %q", name, f.DefValue, f.Value.String(), want)
		}
	}
	logicApp := NewApp("logic", "")
	logicApp.Logic("")
	if got := logicApp.fs.Lookup("rpc").DefValue; got != ":3119" {
		t.Errorf("logic -rpc default %q, want :3119", got)
	}
}

// TestExposureRule: a tier whose RPC listener is not on loopback does
// not start without a secret, naming the flags (exit status 2); with
// -insecure-rpc it starts and warns; with a secret it starts quietly.
func TestExposureRule(t *testing.T) {
	secret := writeSecret(t, testSecret)
	base := []string{"-http", "127.0.0.1:0", "-log-format", "json", "-stats-interval", "0"}
	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		wantLog  string
	}{
		{"exposed", []string{"-rpc", ":0"}, ExitUsage, "-rpc: rpc: RPC address not loopback and no cluster secret set: :0 listens beyond this machine; set -cluster-secret-file"},
		{"insecure", []string{"-rpc", ":0", "-insecure-rpc"}, ExitOK, "serving the internal RPC without authentication"},
		{"secret", []string{"-rpc", ":0", "-cluster-secret-file", secret}, ExitOK, `"msg":"logic: started"`},
		{"loopback", []string{"-rpc", "127.0.0.1:0"}, ExitOK, `"msg":"logic: started"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := NewApp("logic", "")
			lf := app.Logic("")
			app.getenv = func(string) string { return "" }
			var logs syncBuffer
			ctx, cancel := context.WithCancelCause(context.Background())
			done := make(chan int, 1)
			go func() {
				done <- app.Run(ctx, append(base, tt.args...), &logs, func(g *Group) error {
					_, err := lf.Start(g)
					return err
				})
			}()
			if tt.wantCode == ExitOK {
				logs.waitLogLine(t, "logic: started")
				cancel(errors.New("test over"))
			}
			code := <-done
			cancel(nil)
			out := logs.String()
			if code != tt.wantCode || !strings.Contains(out, tt.wantLog) {
				t.Errorf("status %d, want %d; log %s\nwant it to contain %q", code, tt.wantCode, out, tt.wantLog)
			}
			if tt.name == "secret" && strings.Contains(out, "without authentication") {
				t.Errorf("warned with a secret: %s", out)
			}
		})
	}
}

// reloadTier is a Tier that counts its reloads and fails the second.
type reloadTier struct {
	fakeTier
	n atomic.Int32
}

func (r *reloadTier) Reload() error {
	if r.n.Add(1) == 2 {
		return errors.New("bad file")
	}
	return nil
}

// TestReload: each reload request Main makes of a SIGHUP reloads the
// tiers that can, logs the outcome, and does not stop the binary.
func TestReload(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	r := &reloadTier{fakeTier: fakeTier{name: "r", log: &calls, mu: &mu}}
	app := NewApp("x", "")
	var logs syncBuffer
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan int, 1)
	go func() {
		done <- app.Run(ctx, []string{"-log-format", "json"}, &logs, func(g *Group) error {
			g.Add(r)
			return nil
		})
	}()
	app.reload <- struct{}{}
	logs.waitLogLine(t, "r: SIGHUP reload done")
	app.reload <- struct{}{}
	line := logs.waitLogLine(t, "r: SIGHUP reload failed, keeping the files loaded before")
	if line["err"] != "bad file" {
		t.Errorf("reload failure logged %v", line)
	}
	select {
	case code := <-done:
		t.Fatalf("Run returned %d after a reload", code)
	default:
	}
	cancel(errors.New("test over"))
	if code := <-done; code != ExitOK {
		t.Errorf("Run = %d, want %d", code, ExitOK)
	}
}
