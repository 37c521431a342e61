//go:build !unix

package chromium

import "os/exec"

// setProcAttr does nothing on systems without process groups.
func setProcAttr(*exec.Cmd) {}

// killGroup kills the browser process.
func killGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
