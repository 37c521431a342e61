package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/goimx/goim/internal/leaktest"
)

// binaries are the commands the tests run, by name.
var binaries = []string{"goim", "comet", "logic", "job", "goim-client"}

// binDir is where TestMain built the binaries. It is set once, before
// any test runs, and only read afterwards.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// runMain builds the binaries, runs the tests and checks that no
// goroutine outlived them.
func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "goim-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build:", err)
		return 1
	}
	if err := os.WriteFile(filepath.Join(dir, clusterSecretName), []byte(clusterSecret+"\n"), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	binDir = dir
	before := leaktest.Record()
	code := m.Run()
	if code == 0 {
		if err := before.CheckNew(10 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			code = 1
		}
	}
	return code
}

// build builds every command of binaries into dir, without the race
// detector (the tests run the binaries, they do not test them for races),
// with the go command of the toolchain running the tests.
func build(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, b := range binaries {
		args = append(args, "./cmd/"+b)
	}
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Dir = ".." // the module root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// goTool returns the go command of the running toolchain, else the one
// on PATH.
func goTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// bin returns the path of the built command name.
func bin(name string) string { return filepath.Join(binDir, name) }

// The cluster secret every process of the tests shares (commonArgs), in
// the file clusterSecretName of binDir.
const (
	clusterSecret     = "e2e-cluster-secret-0123456789abcdef"
	clusterSecretName = "cluster-secret"
)

// clusterSecretFile returns the path of the cluster secret file.
func clusterSecretFile() string { return filepath.Join(binDir, clusterSecretName) }
