package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
)

// weightedNodes returns the client addresses /goim/nodes/weighted lists
// for a non-web client.
func (c *cluster) weightedNodes(t testing.TB) []string {
	t.Helper()
	status, r := c.get(t, "/goim/nodes/weighted", url.Values{"platform": {"android"}})
	if status != http.StatusOK || r.Code != 0 {
		t.Fatalf("nodes weighted: HTTP %d %+v", status, r)
	}
	var data struct {
		Nodes []string `json:"nodes"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatal(err)
	}
	return data.Nodes
}

// TestDrainSignal: SIGUSR1 drains a comet process: logic stops listing
// it, its clients are closed (counted in its stats line), the process
// keeps running, and a client that reconnects to the other comet gets
// pushes.
func TestDrainSignal(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	a, b := c.comets[0], c.comets[1]
	tok := token(7, "drain-key", "live://drain", 1000)
	first := dialClient(t, "first", "tcp", a.tcp, tok)
	testwait.For(t, recvTimeout, "both comets listed", func() bool { return len(c.weightedNodes(t)) == 2 })
	if err := a.proc.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	first.waitClosed(t)
	testwait.For(t, recvTimeout, "comet-a no longer listed", func() bool {
		return slices.Equal(c.weightedNodes(t), []string{b.addrs})
	})
	a.proc.waitLog(t, `msg="comet: drain started by signal" conns=1`, 1)
	a.proc.waitLog(t, `msg="comet: drained" conns=1`, 1)
	second := dialClient(t, "second", "tcp", b.tcp, tok)
	testwait.For(t, recvTimeout, "push to the moved client", func() bool {
		c.pushOK(t, "/goim/push/keys", url.Values{"operation": {"1000"}, "keys": {"drain-key"}}, "moved")
		return second.receivedWithin("moved", 200*time.Millisecond)
	})
	c.checkRunning(t)
}
