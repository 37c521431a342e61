package rawsock

import (
	"testing"
	"time"

	"github.com/goimx/goim/internal/leaktest"
)

func TestMain(m *testing.M) {
	leaktest.Main(m, 5*time.Second, "github.com/goimx/goim/internal/rawsock.")
}
