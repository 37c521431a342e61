package js

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

// TestHandler checks that the handler serves goim.js as it is on disk,
// as JavaScript, and refuses other methods.
func TestHandler(t *testing.T) {
	disk, err := os.ReadFile("goim.js")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method   string
		status   int
		wantBody []byte
	}{
		{http.MethodGet, http.StatusOK, disk},
		{http.MethodHead, http.StatusOK, nil},
		{http.MethodPost, http.StatusMethodNotAllowed, nil},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, httptest.NewRequest(tt.method, "/demo/goim.js", nil))
		if rec.Code != tt.status {
			t.Errorf("%s: HTTP %d, want %d", tt.method, rec.Code, tt.status)
			continue
		}
		if tt.status == http.StatusOK && rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("%s: Content-Type %q, want JavaScript", tt.method, rec.Header().Get("Content-Type"))
		}
		if tt.wantBody != nil && !bytes.Equal(rec.Body.Bytes(), tt.wantBody) {
			t.Errorf("%s: body of %d bytes differs from goim.js's %d", tt.method, rec.Body.Len(), len(tt.wantBody))
		}
	}
	if !bytes.Equal(Source(), disk) {
		t.Error("Source differs from goim.js on disk")
	}
}
