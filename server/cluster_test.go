package server

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

// cometIDs lists the comets l's registry knows.
func cometIDs(t *testing.T, l *LogicNode) []string {
	t.Helper()
	rep, err := l.Logic().Nodes(context.Background(), &logicrpc.NodesReq{Kind: logicrpc.KindComet})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range rep.Nodes {
		ids = append(ids, n.ID)
	}
	return ids
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", loop)
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestCometRegisteredBeforeClients: once StartComet returns, and so
// before its first client is accepted, logic's registry lists the comet.
// (Before the comet waited for its first report, it was listed only once
// that report, racing the accept loops, got through.)
func TestCometRegisteredBeforeClients(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	l, err := StartLogic(LogicConfig{HTTPAddr: loop, RPCAddr: loop}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 5 {
		c, err := StartComet(CometConfig{TCPAddrs: []string{loop}, WSAddr: NoListen, RPCAddr: loop,
			LogicAddr: l.RPCAddr().String()}, logger)
		if err != nil {
			t.Fatal(err)
		}
		id := c.Comet().Config().NodeID
		ids := cometIDs(t, l)
		c.Close()
		if !slices.Contains(ids, id) {
			t.Fatalf("start %d: comet %s not in the registry when StartComet returned (registry: %v)", i, id, ids)
		}
	}
}

// TestCometStartsWithoutLogic: with logic unreachable, the comet starts
// after RegisterWait; when logic comes up, the comet reports at once on
// the new link (its ReportInterval is an hour) and its clients work.
func TestCometStartsWithoutLogic(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	logicAddr := freeAddr(t)
	cfg := CometConfig{TCPAddrs: []string{loop}, WSAddr: NoListen, RPCAddr: loop, LogicAddr: logicAddr,
		RegisterWait: 100 * time.Millisecond, Comet: comet.Config{ReportInterval: time.Hour},
		LogicClient: rpc.ClientConfig{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}}
	start := time.Now()
	c, err := StartComet(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if waited := time.Since(start); waited < cfg.RegisterWait {
		t.Errorf("StartComet returned after %v, before RegisterWait %v", waited, cfg.RegisterWait)
	}
	select {
	case <-c.Comet().Registered():
		t.Fatal("registered with no logic")
	default:
	}
	// The failed first report left the comet's client redialling logic
	// in the background; the dial that succeeds triggers the report.
	var l *LogicNode
	testwait.For(t, 10*time.Second, "logic to listen on "+logicAddr, func() bool {
		l, err = StartLogic(LogicConfig{HTTPAddr: loop, RPCAddr: logicAddr}, logger)
		return err == nil
	})
	defer l.Close()
	id := c.Comet().Config().NodeID
	testwait.For(t, 10*time.Second, "the comet in the registry", func() bool { return slices.Contains(cometIDs(t, l), id) })
}

// TestCometFailsOverLogic: a comet given two logic addresses, the first
// one dead, registers through the second.
func TestCometFailsOverLogic(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	l, err := StartLogic(LogicConfig{HTTPAddr: loop, RPCAddr: loop}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := StartComet(CometConfig{TCPAddrs: []string{loop}, WSAddr: NoListen, RPCAddr: loop,
		LogicAddr: freeAddr(t) + "," + l.RPCAddr().String()}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if id := c.Comet().Config().NodeID; !slices.Contains(cometIDs(t, l), id) {
		t.Fatalf("comet %s not registered through the live logic", id)
	}
	j, err := StartJob(JobConfig{RPCAddr: loop, LogicAddr: freeAddr(t) + "," + l.RPCAddr().String()}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	waitReady(t, &Node{logic: l, comet: c, job: j})
	conn := dial(t, "tcp", c.Addrs().TCP[0], nil, "k")
	push(t, l.HTTPAddr().String(), "k", "failover")
	expect(t, conn, "failover")
}

// TestLogicRestartReportsAtOnce: after logic restarts (memory store: it
// forgets the registry and the sessions), the comet and the job report
// again as soon as their links come back, not at their next periodic
// report (an hour here): a push then reaches the comet's client.
func TestLogicRestartReportsAtOnce(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	l, err := StartLogic(LogicConfig{HTTPAddr: loop, RPCAddr: loop}, logger)
	if err != nil {
		t.Fatal(err)
	}
	logicAddr, httpAddr := l.RPCAddr().String(), l.HTTPAddr().String()
	fast := rpc.ClientConfig{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	c, err := StartComet(CometConfig{TCPAddrs: []string{loop}, WSAddr: NoListen, RPCAddr: loop, LogicAddr: logicAddr,
		Comet: comet.Config{ReportInterval: time.Hour}, LogicClient: fast}, logger)
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	defer c.Close()
	jc := JobConfig{RPCAddr: loop, LogicAddr: logicAddr}
	jc.Job.ReportInterval, jc.Job.Client = time.Hour, fast
	j, err := StartJob(jc, logger)
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	defer j.Close()
	waitReady(t, &Node{logic: l, comet: c, job: j})
	conn := dial(t, "tcp", c.Addrs().TCP[0], nil, "k")
	push(t, httpAddr, "k", "before")
	expect(t, conn, "before")

	l.Close()
	var l2 *LogicNode
	testwait.For(t, 10*time.Second, "logic to restart", func() bool {
		l2, err = StartLogic(LogicConfig{HTTPAddr: httpAddr, RPCAddr: logicAddr}, logger)
		return err == nil
	})
	defer l2.Close()
	restarted := time.Now()
	waitReady(t, &Node{logic: l2, comet: c, job: j})
	t.Logf("comet and job back in the registry %v after the restart", time.Since(restarted))
	// The registry is back; the comet's sessions follow in its report,
	// which a loaded machine may delay: until then a push reaches no one
	// (answered "conns":0, so it is not delivered later either).
	testwait.ForReason(t, 10*time.Second, "the comet's sessions back", func() (bool, string) {
		got := pushKeys(t, httpAddr, "k", "after")
		return strings.Contains(got, `"conns":1`), got
	})
	expect(t, conn, "after")
}
