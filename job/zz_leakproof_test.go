package job

import "testing"

func TestLeakProof(t *testing.T) {
	block := make(chan struct{})
	go func() { <-block }()
}
