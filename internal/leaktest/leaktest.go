// Package leaktest checks, at the end of a package's tests, that the
// goroutines the tests started have ended.
//
// A package's TestMain hands its testing.M to Main (or MainCount), which
// runs the tests and then, if they passed, polls until no leftover
// goroutine remains or a deadline passes. Leftovers are recognised either
// by markers, substrings of a goroutine's stack such as a package path
// ("github.com/goimx/goim/rpc."), or by counting goroutines against the
// number that ran before the tests. Only the standard library is used, and
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

// MainCount runs the tests of m and, if they passed, CheckCount with the
// number of goroutines that ran before them. It prints a leak to standard
// error and exits with status 1 then; otherwise it exits with the tests'
// status. It never returns.
func MainCount(m *testing.M, timeout time.Duration) {
	base := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		code = report(CheckCount(base, timeout))
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

// CheckCount polls until at most base goroutines run (as counted by
// runtime.NumGoroutine), and returns nil then. If more remain after
// timeout it returns an error wrapping ErrLeaked with every goroutine's
// stack.
func CheckCount(base int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %d more than the %d before the tests, after %v:\n\n%s",
				ErrLeaked, n-base, base, timeout, strings.TrimSpace(allStacks()))
		}
		time.Sleep(pollInterval)
	}
}

// Stacks returns the stacks of the goroutines whose stack contains one of
// markers, leaving out the caller's and, while the tests run, the one
// running testing.M.Run (the goroutine of TestMain).
func Stacks(markers ...string) []string {
	var out []string
	for i, g := range strings.Split(allStacks(), "\n\n") {
		if i == 0 || strings.Contains(g, "testing.(*M).Run") { // runtime.Stack lists the caller first
			continue
		}
		for _, m := range markers {
			if strings.Contains(g, m) {
				out = append(out, strings.TrimSpace(g))
				break
			}
		}
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
