package chromium

import (
	"testing"
	"time"

	"github.com/goimx/goim/internal/leaktest"
)

// TestMain fails the run when goroutines of this package, of the websocket
// connection, of os/exec or of an HTTP test server outlive the tests.
func TestMain(m *testing.M) {
	leaktest.Main(m, 10*time.Second,
		"github.com/goimx/goim/internal/chromium", "github.com/goimx/goim/websocket",
		"os/exec.", "net/http.(*conn).serve")
}
