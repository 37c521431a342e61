package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/metrics"
)

// httpGet gets url and returns the status and body.
func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// scrape gets and parses http://addr/metrics and checks that every
// sample belongs to a family with a # TYPE and a # HELP.
func scrape(t *testing.T, addr string) *metrics.Scrape {
	t.Helper()
	status, body := httpGet(t, "http://"+addr+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d %s", status, body)
	}
	s, err := metrics.Parse(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	for _, smp := range s.Samples {
		fam := smp.Name
		if _, ok := s.Types[fam]; !ok {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(fam, suf); ok && (s.Types[b] == metrics.TypeHistogram || s.Types[b] == "summary") {
					fam = b
				}
			}
		}
		if _, ok := s.Types[fam]; !ok {
			t.Errorf("sample %s has no # TYPE", smp.Name)
		}
		if _, ok := s.Help[fam]; !ok && strings.HasPrefix(fam, "goim_") {
			t.Errorf("family %s has no # HELP", fam)
		}
	}
	return s
}

// pushAPI posts to the push API path and query at addr and fails the
// test unless the answer is code 0.
func pushAPI(t *testing.T, addr, pathQuery, body string) {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post("http://"+addr+pathQuery, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"code":0`) {
		t.Fatalf("push %s: %s", pathQuery, b)
	}
}

// probe gets path at addr and decodes the probe answer.
func probe(t *testing.T, addr, path string) (int, probeAnswer) {
	t.Helper()
	status, body := httpGet(t, "http://"+addr+path)
	var a probeAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("%s: %d %q: %v", path, status, body, err)
	}
	return status, a
}

// TestNodeMetrics scrapes the /metrics of a whole node after pushes to
// a TCP and a WebSocket client and checks the series by value.
func TestNodeMetrics(t *testing.T) {
	for _, links := range []Links{LinksRPC, LinksDirect} {
		t.Run(string(links), func(t *testing.T) { testNodeMetrics(t, links) })
	}
}

func testNodeMetrics(t *testing.T, links Links) {
	n, err := Start(Config{
		Logic: LogicConfig{HTTPAddr: loop, RPCAddr: loop},
		Comet: CometConfig{TCPAddrs: []string{loop}, WSAddr: loop, RPCAddr: loop, Comet: comet.Config{ReportInterval: 50 * time.Millisecond}},
		Job:   JobConfig{RPCAddr: loop},
		Links: links,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	waitReady(t, n)
	dialRoom := func(transport, key string) *client.Conn {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a := n.Comet().Addrs()
		addr := a.WS
		if transport == client.TransportTCP {
			addr = a.TCP[0]
		}
		c, err := client.Dial(ctx, client.Config{Transport: transport, Addr: addr.String(),
			Token: client.Token{Key: key, RoomID: "live://1", Accepts: []int32{1000}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	tcp := dialRoom(client.TransportTCP, "kt")
	ws := dialRoom(client.TransportWS, "kw")
	http := n.Logic().HTTPAddr().String()
	const keyPushes = 3
	for i := range keyPushes {
		pushAPI(t, http, "/goim/push/keys?operation=1000&keys=kt", fmt.Sprint("k", i))
		expect(t, tcp, fmt.Sprint("k", i))
	}
	// The room's count reaches logic with the comet's next report.
	testwait.For(t, 10*time.Second, "logic to know room live://1", func() bool {
		return n.Logic().Logic().Stats().Rooms == 1
	})
	pushAPI(t, http, "/goim/push/room?operation=1000&type=live&room=1", "r")
	pushAPI(t, http, "/goim/push/all?operation=1000", "a")
	for _, c := range []*client.Conn{tcp, ws} {
		expect(t, c, "r")
		expect(t, c, "a")
	}

	// The job counts a delivery once the comet's call returned, which may
	// be after the client read the message.
	s := scrape(t, http)
	testwait.For(t, 10*time.Second, "the job to count its deliveries", func() bool {
		s = scrape(t, http)
		got, _ := s.Value("goim_job_delivered_messages_total")
		return got >= keyPushes+1+1
	})
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"goim_logic_pushes_total", []string{"endpoint", "keys", "code", "0"}, keyPushes},
		{"goim_logic_pushes_total", []string{"endpoint", "room", "code", "0"}, 1},
		{"goim_logic_pushes_total", []string{"endpoint", "all", "code", "0"}, 1},
		{"goim_logic_pushes_total", []string{"endpoint", "mids", "code", "0"}, 0},
		{"goim_logic_pushes_total", []string{"endpoint", "keys", "code", "-500"}, 0},
		{"goim_logic_auths_total", []string{"result", "ok"}, 2},
		{"goim_logic_auths_total", []string{"result", "refused"}, 0},
		{"goim_logic_nodes", []string{"kind", "job", "state", "online"}, 1},
		{"goim_logic_store_errors_total", []string{"store", "memory"}, 0},
		{"goim_comet_connections", []string{"transport", "tcp"}, 1},
		{"goim_comet_connections", []string{"transport", "ws"}, 1},
		{"goim_comet_connections_accepted_total", nil, 2},
		// 3 key pushes to one client, a room batch and a broadcast to two.
		{"goim_comet_deliveries_total", nil, keyPushes + 2 + 2},
		{"goim_comet_drops_total", []string{"reason", "queue_full"}, 0},
		{"goim_comet_closes_total", []string{"reason", "slow_consumer"}, 0},
		{"goim_comet_logic_reported", nil, 1},
		{"goim_job_pushes_total", []string{"type", "keys"}, keyPushes},
		{"goim_job_pushes_total", []string{"type", "room"}, 1},
		{"goim_job_pushes_total", []string{"type", "all"}, 1},
		{"goim_job_room_batch_messages_total", nil, 1},
		{"goim_job_delivered_messages_total", nil, keyPushes + 1 + 1},
		{"goim_job_drops_total", []string{"reason", "queue_full"}, 0},
		{"goim_job_rejected_total", []string{"reason", "unknown_comet"}, 0},
	}
	for _, tt := range tests {
		if got, ok := s.Value(tt.name, tt.labels...); !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	// Every write to a client observed the latency of a stamped push: at
	// least one per key push (each read before the next) and one per
	// client for the room push and the broadcast.
	count, _ := s.Value("goim_comet_push_latency_seconds_count")
	inf, _ := s.Value("goim_comet_push_latency_seconds_bucket", "le", "+Inf")
	sum, _ := s.Value("goim_comet_push_latency_seconds_sum")
	if count < keyPushes+2 || inf != count || sum <= 0 || sum > 10*count {
		t.Errorf("push latency: count %v, +Inf bucket %v, sum %vs; want at least %d observations, +Inf = count, a plausible sum",
			count, inf, sum, keyPushes+2)
	}
	if got, _ := s.Value("goim_job_room_batch_size_messages_bucket", "le", "1"); got != 1 {
		t.Errorf("room batches of one message = %v, want 1", got)
	}
	if got, _ := s.Value("goim_job_room_batches_total"); got != 1 {
		t.Errorf("goim_job_room_batches_total = %v, want 1", got)
	}
	cometID := n.Comet().Comet().Config().NodeID
	cometAddr := n.Comet().Comet().Config().RPCAdvertise
	if got, ok := s.Value("goim_job_comet_queue_depth", "comet", cometID, "addr", cometAddr); !ok || got != 0 {
		t.Errorf("goim_job_comet_queue_depth of %s = %v, %v; want 0 (drained)", cometID, got, ok)
	}
	if got, ok := s.Value("goim_job_rpc_link_up", "peer", "comet", "id", cometID, "addr", cometAddr); !ok || got != 1 {
		t.Errorf("job's link to the comet = %v, %v; want 1", got, ok)
	}
	if links == LinksRPC {
		logicAddr := advertise(n.Logic().RPCAddr(), true)
		if got, ok := s.Value("goim_comet_rpc_link_up", "peer", "logic", "addr", logicAddr); !ok || got != 1 {
			t.Errorf("comet's link to logic = %v, %v; want 1", got, ok)
		}
		if got, ok := s.Value("goim_job_rpc_link_up", "peer", "logic", "id", "", "addr", logicAddr); !ok || got != 1 {
			t.Errorf("job's link to logic = %v, %v; want 1", got, ok)
		}
		jobID := n.Job().Job().Config().NodeID
		if got, ok := s.Value("goim_logic_rpc_link_up", "peer", "job", "id", jobID, "addr", n.Job().Job().Config().AdvertiseAddr); !ok || got != 1 {
			t.Errorf("logic's link to the job = %v, %v; want 1", got, ok)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "process_open_fds"} {
		if v, ok := s.Value(name); !ok || v <= 0 {
			t.Errorf("%s = %v, %v; want a positive value", name, v, ok)
		}
	}
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range s.Types {
		if strings.HasPrefix(name, "goim_") && !strings.Contains(string(doc), "| `"+name+"` |") {
			t.Errorf("docs/operations.md has no row for %s", name)
		}
		if strings.HasPrefix(name, "goim_") && !strings.HasPrefix(name, "goim_logic_") &&
			!strings.HasPrefix(name, "goim_comet_") && !strings.HasPrefix(name, "goim_job_") {
			t.Errorf("family %s is not goim_<tier>_...", name)
		}
	}
	if status, a := probe(t, http, "/healthz"); status != 200 || a.Status != "ok" {
		t.Errorf("/healthz: %d %+v", status, a)
	}
	if status, a := probe(t, http, "/readyz"); status != 200 || a.Status != "ready" {
		t.Errorf("/readyz: %d %+v", status, a)
	}
}

// TestProbesSeparateTiers: each tier's readiness, on logic's HTTP port
// and on the comet's and the job's metrics addresses, is 503 with the
// reason until the tiers have found each other, then 200.
func TestProbesSeparateTiers(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	l, err := StartLogic(LogicConfig{HTTPAddr: loop, RPCAddr: loop}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	http := l.HTTPAddr().String()
	notReady := func(addr, why string) {
		t.Helper()
		status, a := probe(t, addr, "/readyz")
		if status != 503 || a.Status != "not ready" || !strings.Contains(a.Reason, why) {
			t.Errorf("/readyz of %s: %d %+v, want 503 naming %q", addr, status, a, why)
		}
	}
	notReady(http, "no job node takes pushes")
	if status, _ := probe(t, http, "/healthz"); status != 200 {
		t.Errorf("/healthz of a logic without jobs: %d, want 200 (alive)", status)
	}

	// A comet and a job whose logic is not there.
	dead := freeAddr(t)
	c0, err := StartComet(CometConfig{TCPAddrs: []string{loop}, WSAddr: NoListen, RPCAddr: loop, LogicAddr: dead, MetricsAddr: loop}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer c0.Close()
	j0, err := StartJob(JobConfig{RPCAddr: loop, LogicAddr: dead, MetricsAddr: loop}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer j0.Close()
	notReady(c0.Addrs().Metrics.String(), "not registered with logic")
	notReady(j0.MetricsAddr().String(), "no link to logic")
	if status, _ := probe(t, j0.MetricsAddr().String(), "/healthz"); status != 200 {
		t.Errorf("/healthz of a job without logic: %d, want 200 (alive)", status)
	}

	logicAddr := l.RPCAddr().String()
	c, err := StartComet(CometConfig{TCPAddrs: []string{loop}, WSAddr: NoListen, RPCAddr: loop, LogicAddr: logicAddr, MetricsAddr: loop}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	j, err := StartJob(JobConfig{RPCAddr: loop, LogicAddr: logicAddr, MetricsAddr: loop}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, addr := range []string{http, c.Addrs().Metrics.String(), j.MetricsAddr().String()} {
		testwait.ForReason(t, 10*time.Second, "/readyz of "+addr, func() (bool, string) {
			status, a := probe(t, addr, "/readyz")
			return status == 200, a.Reason
		})
	}
	conn := dial(t, client.TransportTCP, c.Addrs().TCP[0], nil, "k")
	push(t, http, "k", "m")
	expect(t, conn, "m")

	// Each metrics address reports its own tier only.
	cs := scrape(t, c.Addrs().Metrics.String())
	if v, ok := cs.Value("goim_comet_connections", "transport", "tcp"); !ok || v != 1 {
		t.Errorf("comet's goim_comet_connections{tcp} = %v, %v; want 1", v, ok)
	}
	js := scrape(t, j.MetricsAddr().String())
	if v, ok := js.Value("goim_job_pushes_total", "type", "keys"); !ok || v != 1 {
		t.Errorf("job's goim_job_pushes_total{keys} = %v, %v; want 1", v, ok)
	}
	ls := scrape(t, http)
	for name, s := range map[string]*metrics.Scrape{"comet": cs, "job": js, "logic": ls} {
		for fam := range s.Types {
			if strings.HasPrefix(fam, "goim_") && !strings.HasPrefix(fam, "goim_"+name+"_") {
				t.Errorf("%s's metrics address reports %s", name, fam)
			}
		}
	}
}
