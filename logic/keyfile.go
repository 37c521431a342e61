package logic

import (
	"bytes"
	"fmt"
	"os"
)

// readKeyFile reads a file of secrets, one per line: surrounding spaces
// are trimmed, blank lines and lines starting with # are ignored. what
// names the file's use in errors. A file without any secret is an error,
// and so is one shorter than minLen bytes (0: any length).
func readKeyFile(path, what string, minLen int) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("logic: %s: %w", what, err)
	}
	var keys [][]byte
	for i, line := range bytes.Split(data, []byte{'\n'}) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if len(line) < minLen {
			return nil, fmt.Errorf("logic: %s %s line %d: shorter than %d bytes", what, path, i+1, minLen)
		}
		keys = append(keys, line)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("logic: %s %s: no key in the file", what, path)
	}
	return keys, nil
}
