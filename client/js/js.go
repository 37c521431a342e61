// Package js holds goim.js, the browser client (see docs/client.md), for
// Go programs that serve it.
package js

import (
	_ "embed"
	"net/http"
	"strconv"
)

// goimJS is the browser client's source.
//
//go:embed goim.js
var goimJS []byte

// Source returns goim.js's source (a copy).
func Source() []byte {
	return append([]byte(nil), goimJS...)
}

// Handler returns a handler that answers GET and HEAD requests of any path
// with goim.js, as a JavaScript module.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(goimJS)))
		if r.Method == http.MethodGet {
			w.Write(goimJS)
		}
	})
}
