package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
)

// Short intervals so that the tests wait little: comets and jobs report
// every 200ms, logic forgets a node silent for 2s, jobs refetch the comet
// list every 200ms, and lost RPC connections are redialled within 200ms.
// Every process logs its stats every second, for failed tests' output.
const (
	reportInterval = "200ms"
	nodeTTL        = 2 * time.Second
	cometRefresh   = "200ms"
	rpcMaxBackoff  = "200ms"
	shutdownBound  = "5s"
	// sendQueue is the comets' per-connection queue: larger than the
	// room-order burst, so that a test client starved of CPU on a loaded
	// machine is not treated as a slow reader whose messages are dropped.
	sendQueue = "1024"
	// drainDuration paces a comet's drain (SIGUSR1) in the tests.
	drainDuration = "500ms"
)

// cometNode is one comet of a cluster, as clients and the tests see it.
type cometNode struct {
	id    string // node id
	addrs string // public client addresses reported to logic (-addrs)
	tcp   string // host:port of the TCP listener
	ws    string // host:port of the WebSocket listener
	rpc   string // host:port of the comet RPC listener
	proc  *proc  // nil in the all-in-one cluster
}

// cluster is a running goim: either one logic, one job and two comets
// as separate processes, or the all-in-one binary.
type cluster struct {
	httpURL  string // base URL of the push API
	logicRPC string
	jobRPC   string
	logic    *proc // the logic process, or the all-in-one process
	job      *proc // nil in the all-in-one cluster
	comets   []*cometNode
	http     *http.Client
	allInOne bool
}

// freePorts returns n distinct free loopback ports (see ports).
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		out[i] = ports.take(t)
	}
	return out
}

// loop returns 127.0.0.1:port.
func loop(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// newHTTPClient returns a client for the push API whose idle connections
// are closed at the end of the test.
func newHTTPClient(t testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// commonArgs are the flags every binary of the tests gets, the cluster
// secret among them: every RPC link of the tests is authenticated.
func commonArgs() []string {
	return []string{"-shutdown-timeout", shutdownBound, "-stats-interval", "1s", "-log-level", "debug",
		"-cluster-secret-file", clusterSecretFile()}
}

// startCluster starts one logic, one job and two comets ("comet-a" and
// "comet-b") as separate processes, and waits until they are ready. At
// the end of the test each process still running is stopped with SIGTERM
// and must exit with status 0.
func startCluster(t testing.TB) *cluster {
	t.Helper()
	p := freePorts(t, 10)
	c := &cluster{httpURL: "http://" + loop(p[0]), logicRPC: loop(p[1]), jobRPC: loop(p[2]), http: newHTTPClient(t)}
	c.logic = startProc(t, "logic", "logic", c.logicArgs()...)
	c.logic.waitLog(t, `msg="logic: started"`, 1)
	for i, name := range []string{"comet-a", "comet-b"} {
		n := &cometNode{id: name, addrs: fmt.Sprintf("10.0.0.%d", i+1),
			tcp: loop(p[3+3*i]), ws: loop(p[4+3*i]), rpc: loop(p[5+3*i])}
		n.proc = startProc(t, name, "comet", c.cometArgs(n)...)
		c.comets = append(c.comets, n)
	}
	c.job = startProc(t, "job", "job", c.jobArgs()...)
	t.Cleanup(func() { c.stopAll(t) })
	c.ready(t)
	return c
}

// logicArgs are the flags of the logic process.
func (c *cluster) logicArgs() []string {
	return append(commonArgs(), "-http", hostPort(c.httpURL), "-rpc", c.logicRPC,
		"-node-ttl", nodeTTL.String(), "-rpc-max-backoff", rpcMaxBackoff, "-push-timeout", "3s")
}

// cometArgs are the flags of comet n's process.
func (c *cluster) cometArgs(n *cometNode) []string {
	return append(commonArgs(), "-logic", c.logicRPC, "-node-id", n.id, "-addrs", n.addrs,
		"-tcp", n.tcp, "-ws", n.ws, "-rpc", n.rpc,
		"-report-interval", reportInterval, "-rpc-max-backoff", rpcMaxBackoff, "-send-queue", sendQueue,
		"-drain-duration", drainDuration)
}

// jobArgs are the flags of the job process.
func (c *cluster) jobArgs() []string {
	return append(commonArgs(), "-logic", c.logicRPC, "-rpc", c.jobRPC, "-node-id", "job-1",
		"-comet-refresh", cometRefresh, "-report-interval", reportInterval, "-rpc-max-backoff", rpcMaxBackoff)
}

// startAllInOne starts the all-in-one binary with one comet and waits
// until it is ready; at the end of the test it must stop with status 0 on
// SIGTERM.
func startAllInOne(t testing.TB, extra ...string) *cluster {
	t.Helper()
	p := freePorts(t, 6)
	n := &cometNode{id: "goim-comet", addrs: "10.0.0.1", tcp: loop(p[0]), ws: loop(p[1]), rpc: loop(p[2])}
	c := &cluster{httpURL: "http://" + loop(p[3]), logicRPC: loop(p[4]), jobRPC: loop(p[5]),
		comets: []*cometNode{n}, http: newHTTPClient(t), allInOne: true}
	args := append(commonArgs(),
		"-logic.http", hostPort(c.httpURL), "-logic.rpc", c.logicRPC, "-logic.node-ttl", nodeTTL.String(),
		"-logic.rpc-max-backoff", rpcMaxBackoff,
		"-comet.node-id", n.id, "-comet.addrs", n.addrs, "-comet.tcp", n.tcp, "-comet.ws", n.ws,
		"-comet.rpc", n.rpc, "-comet.report-interval", reportInterval, "-comet.send-queue", sendQueue,
		"-job.rpc", c.jobRPC, "-job.comet-refresh", cometRefresh, "-job.report-interval", reportInterval)
	c.logic = startProc(t, "goim", "goim", append(args, extra...)...)
	t.Cleanup(func() { c.stopAll(t) })
	c.ready(t)
	return c
}

// hostPort returns the host:port of a URL.
func hostPort(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	return p.Host
}

// stopAll stops the processes still running with SIGTERM, comets first,
// and checks that each exits with status 0.
func (c *cluster) stopAll(t testing.TB) {
	t.Helper()
	var procs []*proc
	for _, n := range c.comets {
		procs = append(procs, n.proc)
	}
	procs = append(procs, c.job, c.logic)
	for _, p := range procs {
		if p != nil && !p.exited() {
			p.stop(t)
		}
	}
}

// checkRunning fails the test at once if a process of the cluster has
// exited (e.g. it could not bind its port).
func (c *cluster) checkRunning(t testing.TB) {
	t.Helper()
	procs := []*proc{c.logic, c.job}
	for _, n := range c.comets {
		procs = append(procs, n.proc)
	}
	for _, p := range procs {
		if p != nil && p.exited() {
			t.Fatalf("%s exited (%v) while starting:\n%s", p.name, p.err, p.out.String())
		}
	}
}

// cometIDs returns the ids of the cluster's comets.
func (c *cluster) cometIDs() []string {
	ids := make([]string, len(c.comets))
	for i, n := range c.comets {
		ids[i] = n.id
	}
	return ids
}

// ready waits until logic answers, every comet is in /nodes/instances,
// and a broadcast reaches a probe client on every comet (so the job knows
// every comet).
func (c *cluster) ready(t testing.TB) {
	t.Helper()
	testwait.ForReason(t, startTimeout, "the comets to register", func() (bool, string) {
		c.checkRunning(t)
		got, err := c.instanceIDs()
		if err != nil {
			return false, err.Error()
		}
		return equalStrings(got, c.cometIDs()), fmt.Sprintf("instances %v, want %v", got, c.cometIDs())
	})
	c.probe(t)
}

// probeOp is the operation of the readiness broadcasts; no test client
// accepts it.
const probeOp = 99

// probe connects a client to every comet and broadcasts until each one
// received a broadcast, then closes them.
func (c *cluster) probe(t testing.TB) {
	t.Helper()
	var probes []*tclient
	for i, n := range c.comets {
		tok := token(0, fmt.Sprintf("probe-%d", i), "", probeOp)
		probes = append(probes, dialClient(t, "probe-"+n.id, "tcp", n.tcp, tok))
	}
	defer func() {
		for _, p := range probes {
			p.close()
		}
	}()
	attempt := 0
	testwait.ForReason(t, startTimeout, "a broadcast to reach every comet", func() (bool, string) {
		attempt++
		body := fmt.Sprintf("probe-%d", attempt)
		code, r := c.post(t, "/goim/push/all", url.Values{"operation": {strconv.Itoa(probeOp)}}, body)
		if code != http.StatusOK || r.Code != 0 {
			return false, fmt.Sprintf("push all: HTTP %d %+v", code, r)
		}
		for _, p := range probes {
			if !p.receivedWithin(body, 300*time.Millisecond) {
				return false, p.name + " got nothing"
			}
		}
		return true, ""
	})
}
