//go:build !race

package bench

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestScaleScript runs bench/scale.sh scaled down: static builds of the
// comet, logic, job and goim-bench binaries, one logic, one job and four
// comet processes, 8,000 clients spread over them from two generator
// processes; every room and push/all message must reach every client. Its work happens in child
// processes, so it is left out of race-detector runs, where its load
// would only starve the timing-sensitive tests of the packages tested
// alongside.
func TestScaleScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four binaries and opens 8,000 connections")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the binaries")
	}
	bin, out := t.TempDir(), t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goTool, "build", "-o", bin+string(filepath.Separator),
		"./cmd/comet", "./cmd/logic", "./cmd/job", "./cmd/goim-bench")
	build.Dir = ".."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	run := exec.CommandContext(ctx, "sh", "scale.sh")
	run.Env = append(os.Environ(), "BIN="+bin, "OUT="+out, "COMETS=4", "GENERATORS=2", "CONNS=8000",
		"RATE=5", "DURATION=2s", "SETTLE=1s", "BASE="+freeBase(t))
	b, err := run.CombinedOutput()
	t.Logf("scale.sh:\n%s", b)
	if err != nil {
		t.Fatalf("scale.sh: %v", err)
	}
	rep := readReport(t, filepath.Join(out, "scale.json"))
	if rep.Idle == nil || rep.Idle.Conns != 8000 || rep.Idle.Lost != 0 {
		t.Errorf("idle: %+v, want 8000 connections, none lost", rep.Idle)
	}
	if len(rep.Runs) != 2 {
		t.Fatalf("%d runs, want room and all", len(rep.Runs))
	}
	for i, kind := range []string{KindRoom, KindAll} {
		if r := rep.Runs[i]; r.Kind != kind || !r.AllDelivered() || r.Conns != 8000 {
			t.Errorf("%s: %+v, want 8000 connections, all delivered", kind, r)
		}
	}
}

// scaleReport is what TestScaleScript reads of a goim-bench JSON report.
type scaleReport struct {
	Idle *IdleResult `json:"idle"`
	Runs []Result    `json:"runs"`
}

// readReport reads a goim-bench JSON report.
func readReport(t *testing.T, path string) scaleReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep scaleReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rep
}

// freeBase returns a BASE for scale.sh whose ports (BASE..BASE+2 and
// BASE+10..BASE+17, below the ephemeral range) were free a moment ago.
func freeBase(t *testing.T) string {
	t.Helper()
	for base := 21000 + os.Getpid()%500*20; base < 32000; base += 20 {
		if portsFree(base, 0, 1, 2, 10, 11, 12, 13, 14, 15, 16, 17) {
			return strconv.Itoa(base)
		}
	}
	t.Fatal("no free port range for scale.sh")
	return ""
}

// portsFree reports whether 127.0.0.1:base+off can be listened on for
// every offset.
func portsFree(base int, offs ...int) bool {
	for _, off := range offs {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+off))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}
