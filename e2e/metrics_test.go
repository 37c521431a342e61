package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/metrics"
)

// getMetrics scrapes and parses http://addr/metrics.
func (c *cluster) getMetrics(t testing.TB, addr string) *metrics.Scrape {
	t.Helper()
	resp, err := c.http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	s, err := metrics.Parse(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/metrics of %s: HTTP %d, %v", addr, resp.StatusCode, err)
	}
	return s
}

// readyz returns the status and reason of http://addr/readyz.
func (c *cluster) readyz(t testing.TB, addr string) (int, string) {
	t.Helper()
	resp, err := c.http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a struct{ Status, Reason string }
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("/readyz of %s: %q: %v", addr, b, err)
	}
	return resp.StatusCode, a.Reason
}

// TestMetricsProcesses runs logic, a comet and a job as processes, the
// comet and the job with -metrics-addr: each serves its own series, the
// counts follow the pushes, and logic's readiness names the missing job
// before it starts and after it stops.
func TestMetricsProcesses(t *testing.T) {
	p := freePorts(t, 8)
	c := &cluster{httpURL: "http://" + loop(p[0]), logicRPC: loop(p[1]), jobRPC: loop(p[2]), http: newHTTPClient(t)}
	logicHTTP := hostPort(c.httpURL)
	c.logic = startProc(t, "logic", "logic", c.logicArgs()...)
	c.logic.waitLog(t, `msg="logic: started"`, 1)
	if status, reason := c.readyz(t, logicHTTP); status != 503 || !strings.Contains(reason, "no job") {
		t.Errorf("logic without a job: /readyz %d %q, want 503 naming the job", status, reason)
	}
	n := &cometNode{id: "comet-a", addrs: "10.0.0.1", tcp: loop(p[3]), ws: loop(p[4]), rpc: loop(p[5])}
	cometMetrics, jobMetrics := loop(p[6]), loop(p[7])
	n.proc = startProc(t, n.id, "comet", append(c.cometArgs(n), "-metrics-addr", cometMetrics)...)
	c.comets = []*cometNode{n}
	c.job = startProc(t, "job", "job", append(c.jobArgs(), "-metrics-addr", jobMetrics)...)
	t.Cleanup(func() { c.stopAll(t) })
	c.ready(t)
	for _, addr := range []string{logicHTTP, cometMetrics, jobMetrics} {
		testwait.ForReason(t, startTimeout, "/readyz of "+addr, func() (bool, string) {
			status, reason := c.readyz(t, addr)
			return status == 200, reason
		})
	}

	tcp := dialClient(t, "tcp", "tcp", n.tcp, token(1, "kt", "", 1000))
	ws := dialClient(t, "ws", "ws", n.ws, token(2, "kw", "", 1000))
	const pushes = 5
	for i := range pushes {
		for _, key := range []string{"kt", "kw"} {
			c.pushOK(t, "/goim/push/keys", url.Values{"operation": {"1000"}, "keys": {key}}, fmt.Sprint(key, i))
		}
	}
	for _, r := range []struct {
		cl  *tclient
		key string
	}{{tcp, "kt"}, {ws, "kw"}} {
		for i := range pushes {
			if m, ok := r.cl.next(recvTimeout); !ok || m.Body != fmt.Sprint(r.key, i) {
				t.Fatalf("%s read %+v, %v; want %s%d", r.cl.name, m, ok, r.key, i)
			}
		}
	}

	ls := c.getMetrics(t, logicHTTP)
	cs := c.getMetrics(t, cometMetrics)
	js := c.getMetrics(t, jobMetrics)
	for _, tt := range []struct {
		tier   string
		s      *metrics.Scrape
		name   string
		labels []string
		want   float64
	}{
		{"logic", ls, "goim_logic_pushes_total", []string{"endpoint", "keys", "code", "0"}, 2 * pushes},
		{"logic", ls, "goim_logic_auths_total", []string{"result", "ok"}, 2 + 1}, // and the readiness probe's client
		{"comet", cs, "goim_comet_connections", []string{"transport", "tcp"}, 1},
		{"comet", cs, "goim_comet_connections", []string{"transport", "ws"}, 1},
		{"comet", cs, "goim_comet_logic_reported", nil, 1},
		{"comet", cs, "goim_comet_rpc_link_up", []string{"peer", "logic", "addr", c.logicRPC}, 1},
		{"job", js, "goim_job_pushes_total", []string{"type", "keys"}, 2 * pushes},
		{"job", js, "goim_job_rpc_link_up", []string{"peer", "comet", "id", n.id, "addr", n.rpc}, 1},
		{"job", js, "goim_job_comet_queue_depth", []string{"comet", n.id, "addr", n.rpc}, 0},
	} {
		if got, ok := tt.s.Value(tt.name, tt.labels...); !ok || got != tt.want {
			t.Errorf("%s: %s%v = %v (present %v), want %v", tt.tier, tt.name, tt.labels, got, ok, tt.want)
		}
	}
	// The readiness probes' broadcasts count too: at least the key pushes.
	if got, _ := cs.Value("goim_comet_deliveries_total"); got < 2*pushes {
		t.Errorf("comet deliveries %v, want at least %d", got, 2*pushes)
	}
	// One observation per completed queue write: pushes that met in a
	// connection's queue are one write, so each connection counts at
	// least once, not once a push.
	if got, _ := cs.Value("goim_comet_push_latency_seconds_count"); got < 2 {
		t.Errorf("comet latency observations %v, want at least 2 (a write to each connection)", got)
	}

	// The job stops: it reports itself offline, and logic is no longer
	// ready.
	c.job.stop(t)
	testwait.ForReason(t, startTimeout, "logic to see the job gone", func() (bool, string) {
		status, reason := c.readyz(t, logicHTTP)
		return status == 503 && strings.Contains(reason, "no job"), strconv.Itoa(status) + " " + reason
	})
}
