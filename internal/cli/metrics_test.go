package cli

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/goimx/goim/metrics"
)

// TestMetricsAddrFlag: a standalone comet or job has -metrics-addr, off
// by default; the all-in-one has none (its tiers report on logic's HTTP
// port).
func TestMetricsAddrFlag(t *testing.T) {
	app := NewApp("comet", "")
	cf := app.Comet("", true)
	parseApp(t, app, "-metrics-addr", "127.0.0.1:9101")
	if got := cf.Config().MetricsAddr; got != "127.0.0.1:9101" {
		t.Errorf("comet MetricsAddr %q", got)
	}
	app = NewApp("job", "")
	jf := app.Job("", true)
	parseApp(t, app)
	if got := jf.Config().MetricsAddr; got != "" {
		t.Errorf("job MetricsAddr default %q, want off", got)
	}
	app = NewApp("job", "")
	jf = app.Job("", true)
	parseApp(t, app, "-metrics-addr", ":9102")
	if got := jf.Config().MetricsAddr; got != ":9102" {
		t.Errorf("job MetricsAddr %q", got)
	}
	app = NewApp("goim", "")
	app.AllInOne()
	for _, name := range []string{"comet.metrics-addr", "job.metrics-addr"} {
		if app.fs.Lookup(name) != nil {
			t.Errorf("the all-in-one binary has -%s", name)
		}
	}
}

// checkMetrics checks the all-in-one's /metrics and /readyz on its HTTP
// port after one push to one WebSocket client.
func checkMetrics(t *testing.T, hc *http.Client, httpAddr string) {
	t.Helper()
	resp, err := hc.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	s, err := metrics.Parse(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	for _, c := range []struct {
		name   string
		labels []string
		min    float64
	}{
		{"goim_logic_pushes_total", []string{"endpoint", "keys", "code", "0"}, 1},
		{"goim_comet_connections", []string{"transport", "ws"}, 1},
		{"goim_job_pushes_total", []string{"type", "keys"}, 1},
		{"goim_comet_deliveries_total", nil, 1},
	} {
		if v, ok := s.Value(c.name, c.labels...); !ok || v < c.min {
			t.Errorf("%s%v = %v, %v; want at least %v", c.name, c.labels, v, ok, c.min)
		}
	}
	resp, err = hc.Get("http://" + httpAddr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"ready"`) {
		t.Errorf("/readyz: %d %s", resp.StatusCode, b)
	}
}
