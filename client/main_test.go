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
