package e2e

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// ports hands out the loopback ports of the processes the tests start.
// It is the package's only shared state: tests run in parallel and must
// not be handed the same port twice.
var ports portAllocator

// portAllocator hands out ports below the kernel's ephemeral range, each
// at most once per test run, checked free by binding them. Ports from
// 127.0.0.1:0 would come from the ephemeral range, where the outgoing
// connections of every test running on the machine (other packages'
// included) take their local ports, so one could be gone by the time a
// process binds it.
type portAllocator struct {
	mu   sync.Mutex // guards next and hi
	next int        // next port to try; 0 before the first take
	lo   int        // lowest port handed out
	hi   int        // one past the highest
}

// take returns a free port.
func (a *portAllocator) take(t testing.TB) int {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next == 0 {
		a.lo, a.hi = portRange()
		a.next = a.lo + rand.N(a.hi-a.lo) // separate concurrent runs
	}
	for range a.hi - a.lo {
		p := a.next
		if a.next++; a.next >= a.hi {
			a.next = a.lo
		}
		ln, err := net.Listen("tcp", loop(p))
		if err != nil {
			continue
		}
		ln.Close()
		return p
	}
	t.Fatalf("no free port in [%d, %d)", a.lo, a.hi)
	return 0
}

// portRange returns the range below the ephemeral ports (Linux's
// ip_local_port_range, else the IANA range 49152-65535) to take ports from.
func portRange() (lo, hi int) {
	hi = 49152
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				hi = n
			}
		}
	}
	lo = max(hi-16384, 10000)
	if hi-lo < 1000 { // an unusual ephemeral range: use ports above it
		lo, hi = 61000, 65535
	}
	return lo, hi
}
