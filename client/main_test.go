package client

import (
	"testing"
	"time"

	"github.com/goimx/goim/internal/leaktest"
)

// TestMain fails the run when goroutines started by the tests (fake
// servers, heartbeaters, timers) outlive them.
func TestMain(m *testing.M) {
	leaktest.Main(m, 5*time.Second, "github.com/goimx/goim/client.")
}

// waitFor polls cond until it holds or timeout passes, then fails the test.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
