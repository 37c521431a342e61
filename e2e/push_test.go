package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSeparate runs the push suite on one logic, one job and two comets,
// each its own process.
func TestSeparate(t *testing.T) {
	t.Parallel()
	runPushSuite(t, startCluster(t))
}

// TestAllInOne runs the push suite on the all-in-one binary, then checks
// its debug server and its graceful stop; once with its tiers linked over
// loopback RPC (-links rpc) and once in process (-links direct).
func TestAllInOne(t *testing.T) {
	t.Parallel()
	for _, links := range []string{"rpc", "direct"} {
		t.Run("links="+links, func(t *testing.T) {
			t.Parallel()
			testAllInOne(t, links)
		})
	}
}

// testAllInOne is TestAllInOne with -links links.
func testAllInOne(t *testing.T, links string) {
	debug := loop(freePorts(t, 1)[0])
	c := startAllInOne(t, "-debug-addr", debug, "-links", links)
	f := runPushSuite(t, c)
	if line := `msg="goim: tiers linked" links=` + links; c.logic.out.count(line) != 1 {
		t.Errorf("goim did not log %s once", line)
	}
	t.Run("debug", func(t *testing.T) {
		body := httpGet(t, c.http, "http://"+debug+"/debug/pprof/")
		if !strings.Contains(body, "goroutine") {
			t.Errorf("/debug/pprof/ does not list profiles:\n%s", body)
		}
		var stats map[string]json.RawMessage
		if err := json.Unmarshal([]byte(httpGet(t, c.http, "http://"+debug+"/debug/stats")), &stats); err != nil {
			t.Fatalf("/debug/stats: %v", err)
		}
		for _, tier := range []string{"comet", "job"} {
			if _, ok := stats[tier]; !ok {
				t.Errorf("/debug/stats has no %q: %v", tier, stats)
			}
		}
	})
	t.Run("shutdown", func(t *testing.T) {
		c.logic.stop(t)
		for _, cl := range f.clients {
			cl.waitClosed(t)
		}
		for _, line := range []string{`msg="job: stopped"`, `msg="comet: stopped"`, `msg="logic: stopped"`, `msg="goim: exiting" status=0`} {
			if c.logic.out.count(line) != 1 {
				t.Errorf("goim did not log %s once", line)
			}
		}
	})
}

// httpGet GETs u and returns the body of a 200 answer.
func httpGet(t testing.TB, hc *http.Client, u string) string {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", u, resp.StatusCode, b)
	}
	return string(b)
}
