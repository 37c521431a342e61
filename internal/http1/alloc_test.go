//go:build !race

package http1

import (
	"testing"
)

// TestServeAllocs pins the allocations of one push-sized request and
// answer on a keep-alive connection, server and client together: one, the
// request target's string.
func TestServeAllocs(t *testing.T) {
	c := dialRaw(t, serve(t, &Server{Handler: pushHandler(), ReadTimeout: 30e9, WriteTimeout: 30e9}))
	req := []byte(pushRequest)
	roundTrip := func() {
		if status, err := c.roundTrip(req); err != nil || status != 200 {
			t.Fatalf("status %d, err %v", status, err)
		}
	}
	for range 10 {
		roundTrip() // warm up: the connection's maps and buffers
	}
	if n := testing.AllocsPerRun(500, roundTrip); n > 1 {
		t.Errorf("%.2f allocations per request, want at most 1", n)
	}
}
