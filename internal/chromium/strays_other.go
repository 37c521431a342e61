//go:build !linux

package chromium

// killStrays does nothing where /proc is not there to search; the crash
// handlers of the browser may outlive it.
func killStrays(string) {}
