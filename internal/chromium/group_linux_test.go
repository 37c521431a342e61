package chromium

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// groupAlive reports whether a process of group pgid is still running
// (zombies do not count: where the init process does not reap orphans,
// the browser's helpers stay as zombies after they died).
func groupAlive(pgid int) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		_, rest, ok := strings.Cut(string(b), ") ")
		f := strings.Fields(rest)
		if !ok || len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			return true
		}
	}
	return false
}

// crashHandlers counts the live Chromium crash handler processes whose
// command line names dir (the browser's profile directory, where its
// crash database lives), so that browsers of other tests running at the
// same time are not counted.
func crashHandlers(dir string) int {
	n := 0
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s := string(b)
		if !strings.Contains(s, "(chrome_crashpad") || strings.Contains(s, ") Z") {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(filepath.Dir(path), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), dir) {
			n++
		}
	}
	return n
}
