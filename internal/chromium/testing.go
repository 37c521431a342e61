package chromium

import (
	"context"
	"os"
	"testing"
	"time"
)

// ForTest starts a browser for the test t and closes it when t ends. When
// no browser is installed it skips t, unless the environment has CI=true:
// there a missing browser fails t, so that CI cannot pass without running
// the browser tests.
func ForTest(t testing.TB) *Browser {
	t.Helper()
	path, err := Lookup()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and no browser to run this test: %v", err)
		}
		t.Skipf("skipping: %v (CI=true makes this a failure)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultStartTimeout)
	defer cancel()
	b, err := Start(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// PageForTest opens a tab of b for t; when t has failed by the time it
// ends, the tab's console log is written to t's log.
func PageForTest(t testing.TB, b *Browser) *Page {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := b.NewPage(ctx)
	if err != nil {
		t.Fatalf("open a page: %v; browser output: %s", err, b.Output())
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, line := range p.Log() {
				t.Logf("page console: %s", line)
			}
		}
	})
	return p
}
