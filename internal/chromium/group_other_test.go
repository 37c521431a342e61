//go:build !linux

package chromium

// groupAlive cannot look at process groups here; it reports false.
func groupAlive(int) bool { return false }

// crashHandlers cannot count processes here; it reports 0.
func crashHandlers(string) int { return 0 }
