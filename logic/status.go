package logic

import (
	_ "embed" // the status page
	"net/http"
)

// statusPage is the status page served at GET /: one self-contained HTML
// file (inline style and script, nothing loaded from elsewhere) that reads
// /goim/online/total, /goim/online/top, /goim/nodes/instances and
// /goim/admin/stats every 2 s. When the queries need an API key it asks
// for one and sends it as a Bearer token.
//
//go:embed status/index.html
var statusPage []byte

// statusCSP keeps the page to itself: its own inline code, requests to
// this origin only.
const statusCSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'"

// handleStatusPage serves GET / (the status page). The page is public: it
// holds no data; what it reads follows the queries' API key rule.
func (l *Logic) handleStatusPage(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", statusCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(statusPage)
}

// handleAdminStats serves GET /goim/admin/stats: the node's Stats (push
// counters by kind, sessions, registry sizes) as JSON, for the status page
// and scripts. The counters are this logic node's, since it started.
func (l *Logic) handleAdminStats(w http.ResponseWriter, _ *http.Request) {
	writeData(w, l.Stats())
}
