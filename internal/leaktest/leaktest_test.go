package leaktest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// marker matches the goroutines startParked starts, running or not yet.
const marker = "created by github.com/goimx/goim/internal/leaktest.startParked"

func TestMain(m *testing.M) {
	Main(m, 5*time.Second, "github.com/goimx/goim/internal/leaktest.")
}

// parkUntil blocks until release is closed, then signals done.
func parkUntil(release <-chan struct{}, done chan<- struct{}) {
	<-release
	close(done)
}

// startParked starts a goroutine in parkUntil; closing the returned
// channel ends it. The test's cleanup ends it too and waits for it.
func startParked(t *testing.T) chan struct{} {
	t.Helper()
	release, done := make(chan struct{}), make(chan struct{})
	go parkUntil(release, done)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		<-done
	})
	return release
}

func TestCheck(t *testing.T) {
	if err := Check(time.Second, marker); err != nil {
		t.Fatalf("Check before any goroutine: %v", err)
	}
	release := startParked(t)
	err := Check(50*time.Millisecond, marker)
	if !errors.Is(err, ErrLeaked) || !strings.Contains(err.Error(), marker) {
		t.Fatalf("Check with a parked goroutine = %v, want ErrLeaked naming %s", err, marker)
	}
	if err := Check(50*time.Millisecond, "no such marker"); err != nil {
		t.Fatalf("Check with an unrelated marker: %v", err)
	}
	close(release)
	if err := Check(5*time.Second, marker); err != nil {
		t.Fatalf("Check after the goroutine ended: %v", err)
	}
}

func TestCheckIgnoresCallerAndMain(t *testing.T) {
	// The stacks of the test goroutine and of TestMain hold this package's path.
	if err := Check(time.Second, "github.com/goimx/goim/internal/leaktest."); err != nil {
		t.Fatalf("Check counted its caller or TestMain: %v", err)
	}
}

func TestBaselineCheckNew(t *testing.T) {
	before := Record()
	if err := before.CheckNew(time.Second); err != nil {
		t.Fatalf("CheckNew with no new goroutine: %v", err)
	}
	release := startParked(t)
	err := before.CheckNew(50 * time.Millisecond)
	if !errors.Is(err, ErrLeaked) || !strings.Contains(err.Error(), marker) {
		t.Fatalf("CheckNew with a parked goroutine = %v, want ErrLeaked with its stack", err)
	}
	if err := Record().CheckNew(50 * time.Millisecond); err != nil {
		t.Fatalf("CheckNew of a Baseline holding the parked goroutine: %v", err)
	}
	close(release)
	if err := before.CheckNew(5 * time.Second); err != nil {
		t.Fatalf("CheckNew after the goroutine ended: %v", err)
	}
}

func TestGoroutineID(t *testing.T) {
	tests := []struct{ stack, want string }{
		{"goroutine 7 [running]:\nmain.main()", "7"},
		{"\ngoroutine 123 [chan receive, 2 minutes]:\nx.f()", "123"},
	}
	for _, tt := range tests {
		if got := goroutineID(tt.stack); got != tt.want {
			t.Errorf("goroutineID(%q) = %q, want %q", tt.stack, got, tt.want)
		}
	}
}

func TestCheckNoMarkerPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Check with no marker did not panic")
		}
	}()
	Check(time.Second)
}
