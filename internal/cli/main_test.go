package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/internal/leaktest"
)

// TestMain fails the run when goroutines started by the tests outlive
// them.
func TestMain(m *testing.M) {
	leaktest.MainAny(m, 10*time.Second)
}

// eventually polls cond until it reports true, failing the test after
// timeout.
// containsAll reports the first of wants missing from s, or "".
func containsAll(s string, wants ...string) string {
	for _, w := range wants {
		if !strings.Contains(s, w) {
			return w
		}
	}
	return ""
}
