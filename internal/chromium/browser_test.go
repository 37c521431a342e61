package chromium

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// testPage is the page the tests load.
const testPage = `<!doctype html>
<html><head><title>chromium test</title></head>
<body><p id="p">hello</p>
<script>
window.answer = 42;
console.log("page loaded", 7);
</script></body></html>`

// servePage serves testPage at / for the length of the test.
func servePage(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(testPage))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// TestBrowser drives a real browser: load a page, evaluate values and
// promises, report exceptions, collect console output, take a screenshot.
func TestBrowser(t *testing.T) {
	b := ForTest(t)
	p := PageForTest(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := servePage(t)
	if err := p.Navigate(ctx, url); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		expr string
		want any
	}{
		{"window.answer + 1", float64(43)},
		{"document.getElementById('p').textContent", "hello"},
		{"new Promise(r => setTimeout(() => r('later'), 30))", "later"},
		{"({a: [1, 'x'], b: null})", map[string]any{"a": []any{float64(1), "x"}, "b": nil}},
	}
	for _, tt := range tests {
		var got any
		if err := p.Evaluate(ctx, tt.expr, &got); err != nil {
			t.Errorf("Evaluate(%q): %v", tt.expr, err)
			continue
		}
		if !equalJSON(got, tt.want) {
			t.Errorf("Evaluate(%q) = %#v, want %#v", tt.expr, got, tt.want)
		}
	}

	for _, expr := range []string{"nosuchname.x", "Promise.reject(new Error('nope'))", "(() => { throw new TypeError('bad') })()"} {
		if err := p.Evaluate(ctx, expr, nil); !errors.Is(err, ErrJS) {
			t.Errorf("Evaluate(%q): %v, want ErrJS", expr, err)
		}
	}

	wctx, wcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err := p.WaitTrue(wctx, "window.answer === 0", 20*time.Millisecond)
	wcancel()
	if err == nil {
		t.Error("WaitTrue on a false expression returned nil")
	}
	if err := p.Evaluate(ctx, "setTimeout(() => { window.answer = 0 }, 50)", nil); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue(ctx, "window.answer === 0", 10*time.Millisecond); err != nil {
		t.Errorf("WaitTrue: %v", err)
	}

	if !slices.Contains(p.Log(), "log: page loaded 7") {
		t.Errorf("console log %q lacks the page's line", p.Log())
	}
	png, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot is not a PNG: % x", png[:min(len(png), 16)])
	}
}

// equalJSON compares decoded JSON values.
func equalJSON(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if !equalJSON(v, b[k]) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		return ok && slices.EqualFunc(a, b, equalJSON)
	}
	return a == b
}

// TestClose: Close ends every process of the browser, removes the profile
// directory, makes later calls fail with ErrClosed, and may be repeated.
func TestClose(t *testing.T) {
	b := ForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pid := b.cmd.Process.Pid
	start := time.Now()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v: something held the output pipe", d)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := os.Stat(b.dir); !os.IsNotExist(err) {
		t.Errorf("profile directory %s still there: %v", b.dir, err)
	}
	if alive := groupAlive(pid); alive {
		t.Errorf("processes of group %d still running after Close", pid)
	}
	if n := crashHandlers(b.dir); n > 0 {
		t.Errorf("%d crash handler processes of the browser left running", n)
	}
	if err := p.Evaluate(ctx, "1", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Evaluate after Close: %v, want ErrClosed", err)
	}
}

// TestStartBadPath: a path that is no browser fails Start with the
// reason, leaving no profile directory behind.
func TestStartBadPath(t *testing.T) {
	before := profileDirs(t)
	for _, path := range []string{"/nonexistent/chromium", "/bin/false"} {
		_, err := Start(context.Background(), Config{Path: path, StartTimeout: 5 * time.Second})
		if err == nil {
			t.Errorf("Start(%s) succeeded", path)
		}
	}
	if after := profileDirs(t); len(after) > len(before) {
		t.Errorf("profile directories left: %v (before: %v)", after, before)
	}
}

// profileDirs lists the profile directories in the temporary directory.
func profileDirs(t *testing.T) []string {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "chromium-profile-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestLookupEnv: $CHROMIUM names the executable, and a bad one is an
// ErrNotFound.
func TestLookupEnv(t *testing.T) {
	t.Setenv("CHROMIUM", "/nonexistent/chromium")
	if _, err := Lookup(); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup with a bad $CHROMIUM: %v, want ErrNotFound", err)
	}
	t.Setenv("CHROMIUM", "/bin/sh")
	if p, err := Lookup(); err != nil || p != "/bin/sh" {
		t.Errorf("Lookup with $CHROMIUM=/bin/sh: %q, %v", p, err)
	}
}
