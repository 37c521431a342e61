package testwait

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fakeTB records a Fatalf and ends its goroutine, as testing.T does.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls fn with a fakeTB on its own goroutine, as Fatalf ends it, and
// returns the failure message ("" if none).
func run(fn func(tb testing.TB)) string {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f.failed
}

func TestFor(t *testing.T) {
	tests := []struct {
		name     string
		hold     int // the poll from which cond holds; 0: never
		reason   string
		wantFail string
	}{
		{"holds at once", 1, "", ""},
		{"holds later", 5, "", ""},
		{"never holds", 0, "", "timed out after 30ms waiting for the thing"},
		{"never holds, with a reason", 0, "still 3", "timed out after 30ms waiting for the thing: still 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			polls := 0
			cond := func() (bool, string) {
				polls++
				return tt.hold > 0 && polls >= tt.hold, tt.reason
			}
			got := run(func(tb testing.TB) { ForReason(tb, 30*time.Millisecond, "the thing", cond) })
			if got != tt.wantFail {
				t.Fatalf("failure %q, want %q", got, tt.wantFail)
			}
			if tt.hold > 0 && polls != tt.hold {
				t.Fatalf("%d polls, want %d", polls, tt.hold)
			}
			plain := run(func(tb testing.TB) {
				polls = 0
				For(tb, 30*time.Millisecond, "the thing", func() bool { ok, _ := cond(); return ok })
			})
			if want := strings.TrimSuffix(tt.wantFail, ": "+tt.reason); plain != want {
				t.Fatalf("For: failure %q, want %q", plain, want)
			}
		})
	}
}
