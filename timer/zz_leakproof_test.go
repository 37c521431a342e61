package timer

import (
	"testing"
	"time"
)

func TestLeakProof(t *testing.T) {
	New(0).Add(time.Hour, func() {})
}
