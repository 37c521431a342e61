package logic

import (
	"net/http"
	"strings"
	"testing"
)

// TestStatusPage: GET / serves the self-contained page (no external
// asset), public; /goim/admin/stats follows the queries' key rule.
func TestStatusPage(t *testing.T) {
	keys := writeFile(t, "keys", "k\n")
	e := newTestEnv(t, func(c *Config) { c.APIKeysFile = keys })
	h := e.l.Handler()
	rec := authDo(h, http.MethodGet, "/", "")
	body := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(body, "goim status") {
		t.Fatalf("GET /: %d %q", rec.Code, rec.Header())
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	for _, ext := range []string{"http://", "https://", "//cdn", "src=\""} {
		if strings.Contains(body, ext) {
			t.Errorf("the page refers to %q: not self-contained", ext)
		}
	}
	for _, tt := range []struct {
		method, target, auth string
		status               int
	}{
		{"POST", "/", "", 405},
		{"GET", "/nope", "", 404},
		{"GET", "/goim/admin/stats", "", 401},
		{"GET", "/goim/admin/stats", "Bearer k", 200},
	} {
		if rec := authDo(h, tt.method, tt.target, tt.auth); rec.Code != tt.status {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.target, rec.Code, tt.status)
		}
	}
	rec = authDo(h, "GET", "/goim/admin/stats", "Bearer k")
	if !strings.Contains(rec.Body.String(), `"Pushes":{"Keys":0`) {
		t.Errorf("stats %s", rec.Body)
	}
}
