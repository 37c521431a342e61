package chromium

import "syscall"

// setDeathSignal makes the kernel kill the browser when the process that
// started it dies, so a crashed test leaves no browser behind.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
