package leaktest

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// marker matches goroutines parked in parkUntil.
const marker = "github.com/goimx/goim/internal/leaktest.parkUntil"

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

func TestCheckCount(t *testing.T) {
	base := runtime.NumGoroutine()
	release := startParked(t)
	err := CheckCount(base, 50*time.Millisecond)
	if !errors.Is(err, ErrLeaked) || !strings.Contains(err.Error(), marker) {
		t.Fatalf("CheckCount with a parked goroutine = %v, want ErrLeaked with its stack", err)
	}
	close(release)
	if err := CheckCount(base, 5*time.Second); err != nil {
		t.Fatalf("CheckCount after the goroutine ended: %v", err)
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
