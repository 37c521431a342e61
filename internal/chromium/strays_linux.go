package chromium

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// killStrays kills the processes outside the browser's process group that
// name dir on their command line: the crash handlers, which Chromium
// starts in sessions of their own with their database inside dir.
func killStrays(dir string) {
	needle := []byte(dir + string(filepath.Separator))
	lines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, path := range lines {
		b, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(b, needle) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path))); err == nil && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
