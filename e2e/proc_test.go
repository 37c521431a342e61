package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
)

// Bounds of process waits.
const (
	startTimeout = 15 * time.Second // until the "started" log lines
	stopTimeout  = 20 * time.Second // SIGTERM until exit (the binaries' -shutdown-timeout is 5s)
)

// logBuffer collects a process's output; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// count returns how many times s was written.
func (b *logBuffer) count(s string) int { return strings.Count(b.String(), s) }

// proc is one running binary.
type proc struct {
	name string   // for messages, e.g. "comet-a"
	path string   // the binary
	args []string // its arguments
	out  *logBuffer
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result; read after done
}

// startProc starts the binary name with args and registers a cleanup
// that kills it if it still runs (and prints its output if the test
// failed).
func startProc(t testing.TB, label, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: label, path: bin(name), args: args}
	p.start(t)
	return p
}

// start runs the process (again, for a restart).
func (p *proc) start(t testing.TB) {
	t.Helper()
	p.out = new(logBuffer)
	p.cmd = exec.Command(p.path, p.args...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	setDeathSignal(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	p.done = make(chan struct{})
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	out, done := p.out, p.done
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = p.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("output of %s %s:\n%s", p.name, strings.Join(p.args, " "), out.String())
		}
	})
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitLog waits until the output holds s n times, failing if the
// process exits first or startTimeout passes.
func (p *proc) waitLog(t testing.TB, s string, n int) {
	t.Helper()
	testwait.ForReason(t, startTimeout, p.name+" to log "+s, func() (bool, string) {
		if p.out.count(s) >= n {
			return true, ""
		}
		if p.exited() {
			t.Fatalf("%s exited (%v) before logging %q:\n%s", p.name, p.err, s, p.out.String())
		}
		return false, "not yet"
	})
}

// kill sends SIGKILL and waits for the exit.
func (p *proc) kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	<-p.done
}

// stop sends SIGTERM and waits up to stopTimeout for the process to
// exit; it fails the test unless the exit status is 0.
func (p *proc) stop(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		t.Fatalf("%s did not exit within %v of SIGTERM", p.name, stopTimeout)
	}
	if p.err != nil {
		t.Fatalf("%s exited with %v after SIGTERM, want status 0", p.name, p.err)
	}
}

// run runs the binary name to completion with a timeout and returns its
// output and exit status.
func run(t testing.TB, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin(name), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return out.String(), 0
	case <-time.After(startTimeout):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v did not exit within %v", name, args, startTimeout)
		return "", -1
	}
}
