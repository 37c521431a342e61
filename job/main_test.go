package job

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/goimx/goim/internal/leaktest"
)

// TestMain fails the run when goroutines of this package (or of the rpc
// clients and servers it starts) outlive the tests.
func TestMain(m *testing.M) {
	leaktest.Main(m, 10*time.Second, "github.com/goimx/goim/job.", "github.com/goimx/goim/rpc.")
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(time.Millisecond)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
