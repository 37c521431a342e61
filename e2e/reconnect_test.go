package e2e

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
)

// sharedPort returns a port free on every host of hosts, so that comets
// on distinct loopback addresses share the one TCP port logic advertises.
func sharedPort(t testing.TB, hosts ...string) int {
	t.Helper()
	for range 20 {
		p := ports.take(t)
		free := true
		for _, h := range hosts {
			ln, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(p)))
			if err != nil {
				free = false
				break
			}
			ln.Close()
		}
		if free {
			return p
		}
	}
	t.Fatalf("no port free on all of %v", hosts)
	return 0
}

// startLoopbackCluster is startCluster with the comets' TCP listeners on
// 127.0.0.2 and 127.0.0.3, one port shared, reported to logic as their
// -addrs, and that port and a one-second backoff advertised by
// /goim/nodes/weighted: a client can reconnect to the nodes it lists.
func startLoopbackCluster(t testing.TB) *cluster {
	t.Helper()
	hosts := []string{"127.0.0.2", "127.0.0.3"}
	tcpPort := sharedPort(t, hosts...)
	p := freePorts(t, 7)
	c := &cluster{httpURL: "http://" + loop(p[0]), logicRPC: loop(p[1]), jobRPC: loop(p[2]), http: newHTTPClient(t)}
	c.logic = startProc(t, "logic", "logic", append(c.logicArgs(), "-tcp-port", strconv.Itoa(tcpPort),
		"-backoff-base-delay", "1", "-backoff-max-delay", "1")...)
	c.logic.waitLog(t, `msg="logic: started"`, 1)
	for i, name := range []string{"comet-a", "comet-b"} {
		n := &cometNode{id: name, addrs: hosts[i], tcp: net.JoinHostPort(hosts[i], strconv.Itoa(tcpPort)),
			ws: loop(p[3+2*i]), rpc: loop(p[4+2*i])}
		n.proc = startProc(t, name, "comet", c.cometArgs(n)...)
		c.comets = append(c.comets, n)
	}
	c.job = startProc(t, "job", "job", c.jobArgs()...)
	t.Cleanup(func() { c.stopAll(t) })
	c.ready(t)
	return c
}

// TestDrainReconnectsGoimClient: goim-client processes started with
// -nodes on one comet reconnect, when that comet is drained (SIGUSR1), to
// the comet /goim/nodes/weighted lists, print the reconnect line, and
// receive a push sent after the drain; Ctrl-C then ends each with status 0.
func TestDrainReconnectsGoimClient(t *testing.T) {
	t.Parallel()
	c := startLoopbackCluster(t)
	a, b := c.comets[0], c.comets[1]
	testwait.For(t, recvTimeout, "both comets listed", func() bool { return len(c.weightedNodes(t)) == 2 })
	var clients []*proc
	var keys []string
	for i := range 3 {
		key := fmt.Sprintf("reconnect-%d", i)
		keys = append(keys, key)
		// -addr puts every client on comet-a; -nodes is where they reconnect.
		clients = append(clients, startProc(t, "goim-client-"+key, "goim-client",
			"-addr", a.tcp, "-nodes", c.httpURL+"/goim/nodes/weighted", "-key", key, "-mid", strconv.Itoa(500+i),
			"-accepts", "1000", "-heartbeat", "1s", "-max-backoff", "200ms"))
	}
	pushUntil := func(body string) {
		t.Helper()
		testwait.ForReason(t, recvTimeout, "every goim-client to print "+body, func() (bool, string) {
			c.pushOK(t, "/goim/push/keys", url.Values{"operation": {"1000"}, "keys": keys}, body)
			time.Sleep(200 * time.Millisecond)
			for _, p := range clients {
				if p.exited() {
					t.Fatalf("%s exited (%v):\n%s", p.name, p.err, p.out.String())
				}
				if p.out.count("body="+body+"\n") == 0 {
					return false, p.name + " has not printed it"
				}
			}
			return true, ""
		})
	}
	pushUntil("before-drain")

	if err := a.proc.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	a.proc.waitLog(t, `msg="comet: drained"`, 1)
	reconnected := "reconnected to " + b.tcp + " after "
	testwait.ForReason(t, recvTimeout, "every goim-client to reconnect to comet-b", func() (bool, string) {
		for _, p := range clients {
			if p.out.count(reconnected) == 0 {
				return false, p.name + " has not printed " + reconnected
			}
		}
		return true, ""
	})
	pushUntil("after-drain")
	for _, p := range clients {
		out := p.out.String()
		if i := strings.Index(out, reconnected); i < 0 || !strings.Contains(out[i:], "body=after-drain") {
			t.Errorf("%s: want the push after the reconnect line:\n%s", p.name, out)
		}
	}

	for _, p := range clients {
		if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range clients {
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			t.Fatalf("%s did not exit on SIGINT", p.name)
		}
		if p.err != nil {
			t.Errorf("%s exited with %v on SIGINT, want status 0:\n%s", p.name, p.err, p.out.String())
		}
	}
	c.checkRunning(t)
}
