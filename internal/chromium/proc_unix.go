//go:build unix

package chromium

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the browser in a process group of its own, so that
// killGroup reaches its helper processes (zygote, renderers, GPU) too.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr)
}

// killGroup sends SIGKILL to the browser's process group.
func killGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
