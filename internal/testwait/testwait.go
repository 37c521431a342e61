// Package testwait polls a condition in tests, in place of a sleep before
// an assertion: the test goes on as soon as the condition holds and fails
// with a message naming what it waited for when it never does. Only test
// files may import this package.
package testwait

import (
	"testing"
	"time"
)

// Polls start this far apart and double up to maxInterval, so a
// condition that holds quickly is seen quickly and one that takes long
// (a process starting, an HTTP round trip) is not polled in a busy loop.
const (
	minInterval = time.Millisecond
	maxInterval = 20 * time.Millisecond
)

// For polls cond until it reports true. If timeout passes first it fails
// t with Fatalf, naming what; it must so be called from the test's own
// goroutine.
func For(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ForReason(t, timeout, what, func() (bool, string) { return cond(), "" })
}

// ForReason is For with a cond that also says why it does not hold yet;
// the failure message ends with the last reason.
func ForReason(t testing.TB, timeout time.Duration, what string, cond func() (ok bool, reason string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	interval := minInterval
	for {
		ok, reason := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			if reason != "" {
				t.Fatalf("timed out after %v waiting for %s: %s", timeout, what, reason)
			}
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
			return
		}
		time.Sleep(interval)
		interval = min(2*interval, maxInterval)
	}
}
