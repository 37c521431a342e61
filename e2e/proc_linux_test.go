package e2e

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill the child when the test process
// dies, so no server outlives a crashed or timed-out test run.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
