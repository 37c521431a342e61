package comet

import (
	"os"
	"testing"
	"time"

	"github.com/goimx/goim/internal/leaktest"
)

// TestMain fails the run if goroutines of this module outlive the tests.
// The memory benchmark's client child process (memClientEnv set) is not
// checked.
func TestMain(m *testing.M) {
	if os.Getenv(memClientEnv) != "" {
		os.Exit(m.Run())
	}
	leaktest.Main(m, 10*time.Second, "github.com/goimx/goim/")
}
