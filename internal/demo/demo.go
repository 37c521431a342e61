// Package demo serves the demo page of the all-in-one binary at /demo/: a
// self-contained page that connects to the node's comet with goim.js,
// shows the messages it receives and pushes to its room through the HTTP
// API (POST /goim/push/room).
package demo

import (
	_ "embed"
	"net/http"

	"github.com/goimx/goim/client/js"
)

// Path is the path prefix the demo is mounted at.
const Path = "/demo/"

// page is the demo's HTML page.
//
//go:embed demo.html
var page []byte

// Handler returns the demo: the page at /demo/ and goim.js at
// /demo/goim.js; any other path under /demo/ is 404.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+Path+"goim.js", js.Handler())
	mux.HandleFunc("GET "+Path+"{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(page)
	})
	return mux
}
