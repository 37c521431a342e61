package demo

import (
	"testing"
	"time"

	"github.com/goimx/goim/internal/leaktest"
)

// TestMain fails the run when goroutines started by the tests outlive
// them.
func TestMain(m *testing.M) {
	leaktest.MainAny(m, 10*time.Second)
}
