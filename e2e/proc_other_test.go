//go:build !linux

package e2e

import "os/exec"

// setDeathSignal does nothing here: only Linux kills children with their
// parent; the tests' cleanups kill them otherwise.
func setDeathSignal(*exec.Cmd) {}
