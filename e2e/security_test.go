package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

// waitLogMatch waits until p's output matches re, failing if p exits
// first or startTimeout passes.
func (p *proc) waitLogMatch(t testing.TB, re *regexp.Regexp) {
	t.Helper()
	testwait.ForReason(t, startTimeout, p.name+" to log "+re.String(), func() (bool, string) {
		if re.MatchString(p.out.String()) {
			return true, ""
		}
		if p.exited() {
			t.Fatalf("%s exited (%v) before logging %s:\n%s", p.name, p.err, re, p.out.String())
		}
		return false, "not yet"
	})
}

// authFailuresLogged matches a stats line of tier with a non-zero count of
// RPC connections refused by the handshake.
func authFailuresLogged(tier string) *regexp.Regexp {
	return regexp.MustCompile(`msg="` + tier + `: stats".* rpc_auth_failures=[1-9]`)
}

// discard is a logger that drops everything.
func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestRPCAnonymous: with the cluster secret set, an RPC peer without it
// cannot push through a comet, a job or logic, nor report as a comet: its
// connection is closed before any method runs, every tier counts it in
// its stats line, and no client receives anything. Then SIGHUP leaves the
// comet and the job running.
func TestRPCAnonymous(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	f := connect(t, c, suiteClients)
	const evil = "anonymous push"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// No secret: rpc's defaults, a short backoff so the attempt is quick.
	cfg := rpc.ClientConfig{DialTimeout: time.Second, MaxBackoff: 100 * time.Millisecond}

	cm := cometrpc.NewClient(c.comets[0].rpc, cfg, discard())
	err := cm.Broadcast(ctx, &cometrpc.BroadcastReq{Op: syncOp, Body: []byte(evil)})
	cm.Close()
	t.Logf("anonymous comet broadcast: %v", err) // one-way: a write may pass before the close

	jb := jobrpc.NewClient(c.jobRPC, cfg, discard())
	if err := jb.Push(ctx, &jobrpc.PushMsg{Type: jobrpc.PushAll, Op: syncOp, Msg: []byte(evil)}); err == nil {
		t.Error("anonymous push to the job succeeded")
	}
	jb.Close()

	lg := logicrpc.NewClient(c.logicRPC, cfg, discard())
	forged := logicrpc.NodeInfo{ID: c.comets[0].id, Kind: logicrpc.KindComet, RPCAddr: "127.0.0.1:1"}
	if _, err := lg.Report(ctx, &logicrpc.ReportReq{Node: forged}); err == nil {
		t.Error("anonymous report to logic succeeded")
	}
	lg.Close()

	c.comets[0].proc.waitLogMatch(t, authFailuresLogged("comet"))
	c.job.waitLogMatch(t, authFailuresLogged("job"))
	c.logic.waitLogMatch(t, authFailuresLogged("logic"))

	// Every client gets the fence and nothing before it.
	fence := "fence-after-anonymous"
	c.pushOK(t, "/goim/push/all", url.Values{"operation": {strconv.Itoa(syncOp)}}, fence)
	for name, cl := range f.clients {
		if got := cl.until(t, fence); len(got) != 0 {
			t.Errorf("%s received %v before the fence", name, got)
		}
	}
	// The comet still serves its clients from its own address.
	if ids, err := c.instanceIDs(); err != nil || !equalStrings(ids, c.cometIDs()) {
		t.Errorf("instances %v (%v), want %v", ids, err, c.cometIDs())
	}

	// SIGHUP does not stop a comet or a job (nothing to reload there):
	// they log it, keep serving, and stop with status 0 at the end.
	for _, p := range []*proc{c.comets[0].proc, c.job} {
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		p.waitLog(t, "SIGHUP received, nothing to reload", 1)
	}
	fence = "fence-after-sighup"
	c.pushOK(t, "/goim/push/all", url.Values{"operation": {strconv.Itoa(syncOp)}}, fence)
	for _, cl := range f.clients {
		cl.until(t, fence)
	}
}

// TestRPCWrongSecret: a comet started with another secret cannot join:
// its reports fail, its log says why, logic counts the refused
// connections and never lists it.
func TestRPCWrongSecret(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	wrong := filepath.Join(t.TempDir(), "wrong-secret")
	if err := os.WriteFile(wrong, []byte("not-the-cluster-secret-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := freePorts(t, 3)
	args := []string{"-log-level", "debug", "-stats-interval", "1s", "-shutdown-timeout", shutdownBound,
		"-cluster-secret-file", wrong, "-logic", c.logicRPC, "-node-id", "comet-x",
		"-tcp", loop(p[0]), "-ws", loop(p[1]), "-rpc", loop(p[2]),
		"-report-interval", reportInterval, "-rpc-max-backoff", rpcMaxBackoff}
	x := startProc(t, "comet-x", "comet", args...)
	x.waitLog(t, "rpc: authentication failed", 1)
	c.logic.waitLogMatch(t, authFailuresLogged("logic"))
	if ids, err := c.instanceIDs(); err != nil || !equalStrings(ids, c.cometIDs()) {
		t.Errorf("instances %v (%v), want only %v", ids, err, c.cometIDs())
	}
	x.stop(t)
}

// TestRPCExposure: a tier binary whose RPC listener is not on loopback
// refuses to start without a secret, naming the flags (exit status 2);
// with -insecure-rpc it starts and warns.
func TestRPCExposure(t *testing.T) {
	t.Parallel()
	p := freePorts(t, 2)
	exposed := ":" + strconv.Itoa(p[0])
	for _, bin := range []string{"logic", "comet", "job"} {
		out, status := run(t, bin, "-rpc", exposed)
		if status != 2 || !strings.Contains(out, "-rpc: rpc: RPC address not loopback and no cluster secret set") ||
			!strings.Contains(out, "set -cluster-secret-file (or GOIM_CLUSTER_SECRET)") || !strings.Contains(out, "-insecure-rpc") {
			t.Errorf("%s -rpc %s without a secret: status %d, output:\n%s", bin, exposed, status, out)
		}
	}
	lg := startProc(t, "logic", "logic", "-http", loop(p[1]), "-rpc", exposed, "-insecure-rpc")
	lg.waitLog(t, "serving the internal RPC without authentication on a non-loopback address (-insecure-rpc)", 1)
	lg.waitLog(t, `msg="logic: started"`, 1)
	lg.stop(t)
}

// writeLines writes lines, one per line, to path.
func writeLines(t testing.TB, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// apiPush POSTs a push to keys with the API key (none when empty) and
// returns the HTTP status and the answer's code.
func apiPush(t testing.TB, c *cluster, apiKey, keys, body string) (int, int) {
	t.Helper()
	u := c.httpURL + "/goim/push/keys?" + url.Values{"operation": {"1000"}, "keys": {keys}}.Encode()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	code := -1
	if m := regexp.MustCompile(`"code":(-?\d+)`).FindSubmatch(b); m != nil {
		code, _ = strconv.Atoi(string(m[1]))
	}
	return resp.StatusCode, code
}

// TestTokensAndAPIKeys runs the all-in-one binary with a token secret
// and an API key file: a signed token connects, an unsigned one is
// refused; a push without a key is a 401, with the key it is delivered;
// after the key file changes, SIGHUP makes the new key work and the old
// one fail, and the binary keeps running.
func TestTokensAndAPIKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokenSecret := "e2e-token-secret-0123456789abcdef-0123456789"
	tokenFile, keysFile := filepath.Join(dir, "token-secret"), filepath.Join(dir, "api-keys")
	writeLines(t, tokenFile, tokenSecret)
	writeLines(t, keysFile, "# push callers", "key-one")
	p := freePorts(t, 6)
	n := &cometNode{id: "goim-comet", tcp: loop(p[0]), ws: loop(p[1]), rpc: loop(p[2])}
	c := &cluster{httpURL: "http://" + loop(p[3]), logicRPC: loop(p[4]), jobRPC: loop(p[5]),
		comets: []*cometNode{n}, http: newHTTPClient(t), allInOne: true}
	args := append(commonArgs(),
		"-logic.http", hostPort(c.httpURL), "-logic.rpc", c.logicRPC, "-logic.node-ttl", nodeTTL.String(),
		"-logic.token-secret-file", tokenFile, "-logic.api-keys-file", keysFile,
		"-comet.node-id", n.id, "-comet.tcp", n.tcp, "-comet.ws", n.ws, "-comet.rpc", n.rpc,
		"-comet.report-interval", reportInterval, "-job.rpc", c.jobRPC, "-job.comet-refresh", cometRefresh,
		"-job.report-interval", reportInterval)
	c.logic = startProc(t, "goim", "goim", args...)
	t.Cleanup(func() { c.stopAll(t) })
	c.logic.waitLog(t, `msg="comet: started"`, 1)

	// Tokens.
	ctx, cancel := context.WithTimeout(context.Background(), recvTimeout)
	defer cancel()
	if conn, err := client.Dial(ctx, client.Config{Addr: n.tcp, Token: token(1, "k1", "", 1000)}); err == nil {
		conn.Close()
		t.Error("an unsigned token connected")
	}
	signed, err := logic.SignToken(logic.Token{Mid: 1, Key: "k1", Accepts: []int32{1000}}, time.Now().Add(time.Hour), []byte(tokenSecret))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := client.Dial(ctx, client.Config{Addr: n.tcp, SignedToken: signed})
	if err != nil {
		t.Fatalf("a signed token was refused: %v", err)
	}
	cl := &tclient{name: "signed", conn: conn, msgs: make(chan msg, 64), done: make(chan struct{})}
	go cl.read()
	t.Cleanup(cl.close)

	// API keys.
	if status, code := apiPush(t, c, "", "k1", "no key"); status != http.StatusUnauthorized || code != -401 {
		t.Errorf("push without a key: HTTP %d code %d, want 401 -401", status, code)
	}
	if status, code := apiPush(t, c, "key-wrong", "k1", "wrong key"); status != http.StatusUnauthorized || code != -401 {
		t.Errorf("push with a wrong key: HTTP %d code %d, want 401 -401", status, code)
	}
	deliveredWith := func(key, body string) {
		t.Helper()
		testwait.ForReason(t, recvTimeout, "a push with "+key+" to be delivered", func() (bool, string) {
			status, code := apiPush(t, c, key, "k1", body)
			if status != http.StatusOK || code != 0 {
				return false, "HTTP " + strconv.Itoa(status) + " code " + strconv.Itoa(code)
			}
			return cl.receivedWithin(body, time.Second), "not received"
		})
	}
	deliveredWith("key-one", "with key one")

	// Rotation: key-two replaces key-one on SIGHUP.
	writeLines(t, keysFile, "key-two")
	if err := c.logic.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	c.logic.waitLog(t, "logic: reloaded token secrets and API keys", 1)
	if status, code := apiPush(t, c, "key-one", "k1", "old key"); status != http.StatusUnauthorized || code != -401 {
		t.Errorf("push with the removed key after SIGHUP: HTTP %d code %d, want 401 -401", status, code)
	}
	deliveredWith("key-two", "with key two")
	if c.logic.exited() {
		t.Fatalf("goim exited after SIGHUP: %v", c.logic.err)
	}
}
