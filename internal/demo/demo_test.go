package demo

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/goimx/goim/client/js"
)

// TestHandler checks the demo's routes: the page, goim.js from package
// js, and 404 or 405 for the rest.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	tests := []struct {
		method, path string
		status       int
		contentType  string
		body         []byte
	}{
		{http.MethodGet, "/demo/", http.StatusOK, "text/html; charset=utf-8", page},
		{http.MethodGet, "/demo/goim.js", http.StatusOK, "text/javascript; charset=utf-8", js.Source()},
		{http.MethodGet, "/demo/other", http.StatusNotFound, "", nil},
		{http.MethodPost, "/demo/", http.StatusMethodNotAllowed, "", nil},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s: HTTP %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
			continue
		}
		if tt.contentType != "" && resp.Header.Get("Content-Type") != tt.contentType {
			t.Errorf("%s %s: Content-Type %q, want %q", tt.method, tt.path, resp.Header.Get("Content-Type"), tt.contentType)
		}
		if tt.body != nil && !bytes.Equal(body, tt.body) {
			t.Errorf("%s %s: %d bytes, want %d", tt.method, tt.path, len(body), len(tt.body))
		}
	}
}

// TestPageSelfContained checks that the page loads nothing from another
// origin: every script and link is relative to it.
func TestPageSelfContained(t *testing.T) {
	for _, bad := range []string{"http://", "https://", "//cdn", "src=\"/", "href=\"/"} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("the demo page contains %q: it must load nothing but ./goim.js", bad)
		}
	}
	if !strings.Contains(string(page), "from './goim.js'") {
		t.Error("the demo page does not import ./goim.js")
	}
}
