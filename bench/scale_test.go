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
// comet processes, 8,000 clients spread over them; every room and
// push/all message must reach every client. Its work happens in child
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
	run.Env = append(os.Environ(), "BIN="+bin, "OUT="+out, "COMETS=4", "CONNS=8000",
		"RATE=5", "DURATION=2s", "SETTLE=1s", "BASE="+freeBase(t))
	b, err := run.CombinedOutput()
	t.Logf("scale.sh:\n%s", b)
	if err != nil {
		t.Fatalf("scale.sh: %v", err)
	}
	for _, name := range []string{"room", "all"} {
		res := readRuns(t, filepath.Join(out, name+".json"))
		if len(res) != 1 || !res[0].AllDelivered() || res[0].Conns != 8000 {
			t.Errorf("%s: %+v, want one run with 8000 connections, all delivered", name, res)
		}
	}
}

// readRuns returns the runs of a goim-bench JSON report.
func readRuns(t *testing.T, path string) []Result {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Runs []Result `json:"runs"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rep.Runs
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
