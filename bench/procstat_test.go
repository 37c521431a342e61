package bench

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestReadProcSelf(t *testing.T) {
	before, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if before.RSS <= 0 || before.HWM < before.RSS || before.Thrs <= 0 || before.FDs <= 0 || before.Name == "" {
		t.Fatalf("implausible sample %+v", before)
	}
	if _, err := os.Stat("/proc/self/smaps_rollup"); err == nil && (before.PSS <= 0 || before.PSS > before.RSS) {
		t.Errorf("PSS %d with RSS %d", before.PSS, before.RSS)
	}
	spin := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(spin) { // burn some CPU
	}
	after, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after.CPU < before.CPU {
		t.Errorf("CPU went back: %v -> %v", before.CPU, after.CPU)
	}
	if p := CPUPercent(before, after); p < 0 {
		t.Errorf("CPUPercent %v", p)
	}
}

func TestReadProcMissing(t *testing.T) {
	if _, err := ReadProc(1 << 30); !errors.Is(err, ErrNoProc) {
		t.Errorf("err %v, want ErrNoProc", err)
	}
}

func TestCPUPercent(t *testing.T) {
	t0 := time.Unix(100, 0)
	a := ProcSample{At: t0, CPU: time.Second}
	b := ProcSample{At: t0.Add(2 * time.Second), CPU: 2 * time.Second}
	if got := CPUPercent(a, b); got != 50 {
		t.Errorf("CPUPercent = %v, want 50", got)
	}
	if got := CPUPercent(b, b); got != 0 {
		t.Errorf("CPUPercent over no time = %v", got)
	}
}

func TestFindProcs(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command")
	}
	cmd := exec.Command(sleep, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	pids, err := FindProcs(filepath.Base(sleep))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, cmd.Process.Pid) {
		t.Errorf("FindProcs(sleep) = %v, want it to hold %d", pids, cmd.Process.Pid)
	}
	self, _ := os.Executable()
	if pids, _ := FindProcs(filepath.Base(self)); slices.Contains(pids, os.Getpid()) {
		t.Errorf("FindProcs lists this process")
	}
}

func TestRaiseFileLimit(t *testing.T) {
	n, err := RaiseFileLimit()
	if err != nil || n == 0 {
		t.Fatalf("RaiseFileLimit = %d, %v", n, err)
	}
}
