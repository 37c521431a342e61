package bench

import (
	"os"
	"testing"
	"time"

	"github.com/goimx/goim/internal/leaktest"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runClientChild(spec))
	}
	leaktest.Main(m, 10*time.Second, "github.com/goimx/goim/")
}
