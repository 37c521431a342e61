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

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
