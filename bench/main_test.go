package bench

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runClientChild(spec))
	}
	code := m.Run()
	if code == 0 {
		if err := checkGoroutines(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// checkGoroutines waits up to 10s for every goroutine running code of
// this module (other than the caller) to end, and otherwise reports their
// stacks.
func checkGoroutines() error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		leaked := leakedStacks()
		if leaked == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("goroutines leaked:\n%s", leaked)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// leakedStacks returns the stacks of the goroutines, other than the
// caller's, that run code of this module.
func leakedStacks() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i > 0 && strings.Contains(g, "github.com/goimx/goim/") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
