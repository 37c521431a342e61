package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
)

// retryTimeout bounds the recovery after a restart.
const retryTimeout = 20 * time.Second

// roomQuery returns the query of a room push.
func roomQuery(operation, room string) url.Values {
	return url.Values{"operation": {operation}, "type": {"live"}, "room": {room}}
}

// TestCometKilled: a comet killed with SIGKILL leaves /nodes/instances
// within logic's node deadline, and pushes to its room still reach the
// other comet's clients.
func TestCometKilled(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	f := connect(t, c, suiteClients)
	killed := time.Now()
	c.comets[1].proc.kill(t)
	testwait.ForReason(t, nodeTTL+5*time.Second, "comet-b to leave /nodes/instances", func() (bool, string) {
		ids, err := c.instanceIDs()
		if err != nil {
			return false, err.Error()
		}
		return equalStrings(ids, []string{"comet-a"}), fmt.Sprintf("instances %v", ids)
	})
	// The node leaves nodeTTL after its last report; allow for polling.
	if took, bound := time.Since(killed), nodeTTL+2*time.Second; took > bound {
		t.Errorf("comet-b left /nodes/instances %v after SIGKILL, want within %v", took, bound)
	}
	for _, name := range []string{"b-tcp", "b-ws"} {
		f.clients[name].waitClosed(t)
	}
	got := c.pushOK(t, "/goim/push/room", roomQuery("1000", "1000"), "after-kill")
	if got.Comets != 1 {
		t.Errorf("push room after the kill: comets %d, want 1", got.Comets)
	}
	for _, name := range []string{"a-tcp", "a-ws"} {
		if msgs := f.clients[name].until(t, "after-kill"); len(msgs) != 0 {
			t.Errorf("%s: unexpected messages before after-kill: %v", name, msgs)
		}
	}
	// Keys held by the dead comet count as offline; mid 1's other device
	// still gets its pushes.
	got = c.pushOK(t, "/goim/push/keys", url.Values{"operation": {"1000"}, "keys": {"key-b-tcp", "key-b-ws"}}, "to-dead-keys")
	if got != (pushData{}) {
		t.Errorf("push to comet-b's keys after the kill: %+v, want no conns and no comets", got)
	}
	got = c.pushOK(t, "/goim/push/mids", url.Values{"operation": {"1000"}, "mids": {"1"}}, "after-kill-mid")
	if want := (pushData{Conns: 1, Comets: 1}); got != want {
		t.Errorf("push to mid 1 after the kill: %+v, want %+v", got, want)
	}
	if msgs := f.clients["a-tcp"].until(t, "after-kill-mid"); len(msgs) != 0 {
		t.Errorf("a-tcp: unexpected messages before after-kill-mid: %v", msgs)
	}
	want := map[string]any{"conn_count": float64(2), "ip_count": float64(1)}
	testwait.ForReason(t, recvTimeout, "online total to drop comet-b", func() (bool, string) {
		_, r := c.get(t, "/goim/online/total", nil)
		var got any
		decode(t, r, &got)
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprintf("got %v, want %v", got, want)
	})
}

// TestLogicRestart: after logic crashes and restarts, the comets
// register again and re-send their sessions, so pushes by key and by mid
// reach the clients again without them reconnecting.
func TestLogicRestart(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	f := connect(t, c, suiteClients)
	c.logic.kill(t)
	c.logic.start(t)
	c.logic.waitLog(t, `msg="logic: started"`, 1)
	keys := url.Values{"operation": {"1000"}, "keys": f.allKeys()}
	retryPush(t, c, "/goim/push/keys", keys, "retry-", func(d pushData) bool { return d.Conns == len(f.specs) })
	c.pushOK(t, "/goim/push/keys", keys, "after-restart-keys")
	got := c.pushOK(t, "/goim/push/mids", url.Values{"operation": {"1000"}, "mids": {"1,2,3"}}, "after-restart-mids")
	if got.Conns != len(f.specs) {
		t.Errorf("push mids after the restart: conns %d, want %d", got.Conns, len(f.specs))
	}
	for _, s := range f.specs {
		cl := f.clients[s.name]
		if msgs := cl.untilSkipping(t, "after-restart-keys", "retry-"); len(msgs) != 0 {
			t.Errorf("%s: unexpected messages: %v", s.name, msgs)
		}
		if msgs := cl.until(t, "after-restart-mids"); len(msgs) != 0 {
			t.Errorf("%s: unexpected messages: %v", s.name, msgs)
		}
		if err := cl.err(); err != nil {
			t.Errorf("%s: connection broke: %v", s.name, err)
		}
	}
	for _, id := range c.cometIDs() {
		if n := c.logic.out.count(`msg="logic: node joined" kind=comet id=` + id); n != 1 {
			t.Errorf("restarted logic logged %d joins of %s, want 1", n, id)
		}
	}
}

// retryPush pushes (with bodies prefix+N) until the answer is code 0 and
// ok accepts its data, or retryTimeout passes.
func retryPush(t testing.TB, c *cluster, path string, q url.Values, prefix string, ok func(pushData) bool) {
	t.Helper()
	attempt := 0
	testwait.ForReason(t, retryTimeout, "a push to "+path+" to work again", func() (bool, string) {
		attempt++
		status, r, err := c.try(http.MethodPost, path, q, fmt.Sprintf("%s%d", prefix, attempt))
		if err != nil || status != http.StatusOK || r.Code != 0 {
			return false, fmt.Sprintf("HTTP %d %+v %v", status, r, err)
		}
		var d pushData
		decode(t, r, &d)
		return ok(d), fmt.Sprintf("data %+v", d)
	})
}

// TestJobRestart: while the job is down (stopped with SIGTERM, then
// killed with SIGKILL) every push answers -500 (HTTP 200) with a reason;
// once it is back, pushes are delivered again.
func TestJobRestart(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	f := connect(t, c, suiteClients)
	t.Run("sigterm", func(t *testing.T) { jobOutage(t, c, f, c.job.stop) })
	t.Run("sigkill", func(t *testing.T) { jobOutage(t, c, f, c.job.kill) })
}

// jobOutage stops the job with stop, checks that pushes fail until the
// job has left the registry, restarts it and checks that pushes work.
func jobOutage(t *testing.T, c *cluster, f *fixture, stop func(testing.TB)) {
	stop(t)
	pushes := []struct {
		path string
		q    url.Values
	}{
		{"/goim/push/keys", url.Values{"operation": {"1000"}, "keys": f.allKeys()}},
		{"/goim/push/mids", url.Values{"operation": {"1000"}, "mids": {"1,2,3"}}},
		{"/goim/push/room", roomQuery("1000", "1000")},
		{"/goim/push/all", url.Values{"operation": {"1000"}}},
	}
	testwait.ForReason(t, nodeTTL+5*time.Second, "the job to leave the registry", func() (bool, string) {
		var msg string
		for _, p := range pushes {
			status, r := c.post(t, p.path, p.q, "during-outage")
			if status != http.StatusOK || r.Code != -500 || r.Message == "" {
				t.Fatalf("%s during the job outage: HTTP %d %+v, want HTTP 200, code -500 with a reason", p.path, status, r)
			}
			msg = r.Message
		}
		return strings.Contains(msg, "no job node"), msg
	})
	c.job.start(t)
	c.job.waitLog(t, `msg="job: started"`, 1)
	waitRoomPush(t, c, f.clients["a-tcp"], f.clients["b-tcp"])
	c.pushOK(t, "/goim/push/keys", url.Values{"operation": {"1000"}, "keys": f.allKeys()}, "after-job-keys")
	c.pushOK(t, "/goim/push/room", roomQuery("1001", "1000"), "after-job-room")
	for _, s := range f.specs {
		cl := f.clients[s.name]
		if msgs := cl.untilSkipping(t, "after-job-keys", "retry-"); len(msgs) != 0 {
			t.Errorf("%s: unexpected messages: %v", s.name, msgs)
		}
		if s.room != "live://1000" {
			continue
		}
		if msgs := cl.until(t, "after-job-room"); len(msgs) != 0 {
			t.Errorf("%s: unexpected messages: %v", s.name, msgs)
		}
	}
}

// waitRoomPush pushes to room live://1000 until a push answered code 0
// reaches every client of members.
func waitRoomPush(t testing.TB, c *cluster, members ...*tclient) {
	t.Helper()
	attempt := 0
	testwait.ForReason(t, retryTimeout, "a room push to be delivered again", func() (bool, string) {
		attempt++
		body := fmt.Sprintf("retry-%d", attempt)
		status, r, err := c.try(http.MethodPost, "/goim/push/room", roomQuery("1000", "1000"), body)
		if err != nil || status != http.StatusOK || r.Code != 0 {
			return false, fmt.Sprintf("HTTP %d %+v %v", status, r, err)
		}
		for _, m := range members {
			if !m.receivedWithin(body, time.Second) {
				return false, m.name + " did not receive " + body
			}
		}
		return true, ""
	})
}

// TestCometShutdown: SIGTERM makes a comet close its clients and tell
// logic before it exits with status 0; the other comet keeps serving.
func TestCometShutdown(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	f := connect(t, c, suiteClients)
	a := c.comets[0]
	a.proc.stop(t)
	for _, name := range []string{"a-tcp", "a-ws"} {
		f.clients[name].waitClosed(t)
	}
	got := c.pushOK(t, "/goim/push/keys", url.Values{"operation": {"1000"}, "keys": {"key-a-tcp", "key-a-ws", "key-b-tcp"}}, "after-shutdown")
	if want := (pushData{Conns: 1, Comets: 1}); got != want {
		t.Errorf("push keys after comet-a stopped: %+v, want %+v (comet-a's sessions gone)", got, want)
	}
	if msgs := f.clients["b-tcp"].until(t, "after-shutdown"); len(msgs) != 0 {
		t.Errorf("b-tcp: unexpected messages: %v", msgs)
	}
	for _, line := range []string{`msg="comet: shutting down" cause="received terminated"`, `msg="comet: stopped"`, `msg="comet: exiting" status=0`} {
		if a.proc.out.count(line) != 1 {
			t.Errorf("comet-a did not log %s:\n%s", line, a.proc.out.String())
		}
	}
}
