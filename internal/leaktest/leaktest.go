// Package leaktest checks, at the end of a package's tests, that the
// goroutines the tests started have ended.
//
// A package's TestMain hands its testing.M to Main (or MainAny), which
// runs the tests and then, if they passed, polls until no leftover
// goroutine remains or a deadline passes. Leftovers are recognised either
// by markers, substrings of a goroutine's stack such as a package path
// ("github.com/goimx/goim/rpc."), or as any goroutine that did not run
// before the tests (a Baseline). Only the standard library is used, and
// only test files may import this package.
package leaktest

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// ErrLeaked is returned, wrapped with the offending stacks, when goroutines
// outlive the deadline.
var ErrLeaked = errors.New("leaktest: goroutines leaked")

// pollInterval is how long the checks sleep between looks.
const pollInterval = 10 * time.Millisecond

// Main runs the tests of m and, if they passed, Check(timeout, markers...).
// It prints a leak to standard error and exits with status 1 then;
// otherwise it exits with the tests' status. It never returns.
func Main(m *testing.M, timeout time.Duration, markers ...string) {
	code := m.Run()
	if code == 0 {
		code = report(Check(timeout, markers...))
	}
	os.Exit(code)
}

// MainAny runs the tests of m and, if they passed, checks with a
// Baseline recorded before them that every goroutine the tests started has
// ended (Baseline.CheckNew). It prints a leak to standard error and exits
// with status 1 then; otherwise it exits with the tests' status. It never
// returns.
func MainAny(m *testing.M, timeout time.Duration) {
	before := Record()
	code := m.Run()
	if code == 0 {
		code = report(before.CheckNew(timeout))
	}
	os.Exit(code)
}

// report prints err, if any, to standard error and returns the exit
// status it calls for.
func report(err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// Check polls until no goroutine has a stack containing one of markers
// (leaving out those Stacks leaves out: the caller's and TestMain's), and
// returns nil then. If some remain after timeout it returns an error
// wrapping ErrLeaked with their stacks. Markers are plain substrings:
// "github.com/goimx/goim/rpc." catches any goroutine running, or created
// by, code of package rpc. Check may also run inside a test, say to check
// that a server's Close ended its goroutines. It panics when given no
// marker, since it would then find nothing.
func Check(timeout time.Duration, markers ...string) error {
	if len(markers) == 0 {
		panic("leaktest: Check needs at least one marker")
	}
	deadline := time.Now().Add(timeout)
	for {
		leaked := Stacks(markers...)
		if len(leaked) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %d still running after %v:\n\n%s",
				ErrLeaked, len(leaked), timeout, strings.Join(leaked, "\n\n"))
		}
		time.Sleep(pollInterval)
	}
}

// Baseline records which goroutines ran at one moment.
type Baseline struct {
	ids map[string]bool // goroutine IDs, as in "goroutine 7 [running]:"
}

// Record returns a Baseline of the goroutines running now.
func Record() Baseline {
	b := Baseline{ids: make(map[string]bool)}
	for _, g := range strings.Split(allStacks(), "\n\n") {
		b.ids[goroutineID(g)] = true
	}
	return b
}

// CheckNew polls until every goroutine, other than the caller's and
// TestMain's, ran when b was recorded, and returns nil then. If others
// remain after timeout it returns an error wrapping ErrLeaked with their
// stacks. Goroutine IDs are never reused, so a goroutine that ended and one
// that started since cannot cancel out.
func (b Baseline) CheckNew(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var leaked []string
		for _, g := range others() {
			if !b.ids[goroutineID(g)] {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %d started since the baseline still running after %v:\n\n%s",
				ErrLeaked, len(leaked), timeout, strings.Join(leaked, "\n\n"))
		}
		time.Sleep(pollInterval)
	}
}

// goroutineID returns the ID in the header line of stack g.
func goroutineID(g string) string {
	id, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(g), "goroutine "), " ")
	return id
}

// Stacks returns the stacks of the goroutines whose stack contains one of
// markers, leaving out the caller's and TestMain's (see others).
func Stacks(markers ...string) []string {
	var out []string
	for _, g := range others() {
		for _, m := range markers {
			if strings.Contains(g, m) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// others returns the stacks of all goroutines but the caller's and, while
// the tests run, the one running testing.M.Run (the goroutine of
// TestMain).
func others() []string {
	var out []string
	for i, g := range strings.Split(allStacks(), "\n\n") {
		if i == 0 || strings.Contains(g, "testing.(*M).Run") { // runtime.Stack lists the caller first
			continue
		}
		out = append(out, strings.TrimSpace(g))
	}
	return out
}

// allStacks returns the stacks of all goroutines, the caller's first,
// growing the buffer until they fit.
func allStacks() string {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}
