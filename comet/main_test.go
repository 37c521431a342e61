package comet

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if goroutines of this module outlive the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && os.Getenv(memClientEnv) == "" {
		if leaked := leakedGoroutines(); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked after the tests:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines waits up to ten seconds for every goroutine running
// code of this module (other than the test runner's own) to end, and
// returns the stacks of those left.
func leakedGoroutines() string {
	deadline := time.Now().Add(10 * time.Second)
	for {
		leaked := moduleGoroutines()
		if leaked == "" || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// moduleGoroutines returns the stacks of goroutines running this module's
// code, except the test main goroutine.
func moduleGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/goimx/goim/") &&
			!strings.Contains(g, "testing.(*M).Run") && !strings.Contains(g, "leakedGoroutines") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
