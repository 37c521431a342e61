package e2e

import (
	"runtime"
	"testing"
	"fmt"
	"os"
)

func TestLeakProof(t *testing.T) {
	block := make(chan struct{})
	go func() { <-block }()
	buf := make([]byte, 1<<20)
	fmt.Fprintf(os.Stderr, "n=%d\n%s\n", runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
}
