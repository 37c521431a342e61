package logic

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
)

// TestNodeIDHeld: a report of a node id that a live node holds at another
// RPC address is refused with ErrBadNode and changes nothing, for comets
// and jobs, in memory and in Redis; the same address reporting again (a
// restart) is accepted, and so is another address once the holder has
// been silent for the node TTL.
func TestNodeIDHeld(t *testing.T) {
	stores := []struct {
		name string
		mod  func(*Config)
	}{{"memory", nil}}
	if !testing.Short() {
		url := redisForTest(t) // held for the whole test: one lock, one empty database
		stores = append(stores, struct {
			name string
			mod  func(*Config)
		}{"redis", func(c *Config) { c.Redis = url }})
	}
	for _, st := range stores {
		for _, kind := range []string{logicrpc.KindComet, logicrpc.KindJob} {
			t.Run(st.name+"/"+kind, func(t *testing.T) { testNodeIDHeld(t, st.mod, kind) })
		}
	}
}

func testNodeIDHeld(t *testing.T, mod func(*Config), kind string) {
	e := newTestEnv(t, mod)
	ctx := context.Background()
	node := func(addr string) logicrpc.NodeInfo {
		n := cometInfo("n1")
		n.Kind, n.RPCAddr = kind, addr
		return n
	}
	holderAddr := func() string {
		t.Helper()
		for _, n := range e.l.reg.nodes(kind, e.clock.Now()) {
			if n.ID == "n1" {
				return n.RPCAddr
			}
		}
		return ""
	}
	legit, evil := "10.0.0.1:3109", "10.6.6.6:3109"
	e.report(t, node(legit), map[string]int32{"live://1": 2})

	e.clock.Advance(time.Second)
	_, err := e.l.Report(ctx, &logicrpc.ReportReq{Node: node(evil), RoomCount: map[string]int32{"live://1": 100}})
	if !errors.Is(err, logicrpc.ErrBadNode) || !strings.Contains(err.Error(), "held by a live node at "+legit) {
		t.Fatalf("impostor's report: err = %v, want ErrBadNode naming %s", err, legit)
	}
	if got := holderAddr(); got != legit {
		t.Errorf("after the impostor's report the registry has n1 at %q, want %s", got, legit)
	}
	if kind == logicrpc.KindComet {
		if got := e.l.reg.roomCounts(map[string]int32{"live://1": 0})["live://1"]; got != 2 {
			t.Errorf("room count %d after the impostor's report, want the holder's 2", got)
		}
	}
	if kind == logicrpc.KindJob {
		if j, ok := e.l.reg.pickJob("live://1", e.clock.Now()); !ok || j.info.RPCAddr != legit {
			t.Errorf("pushes go to job %+v (ok %v), want the holder at %s", j.info, ok, legit)
		}
	}

	// The holder restarting at the same address keeps its id.
	e.clock.Advance(time.Second)
	if rep := e.report(t, node(legit), nil); !rep.Known {
		t.Error("the holder's report at its own address: not known")
	}

	// Once the holder is silent for the node TTL, another address may
	// take the id (a node moved to another machine).
	e.clock.Advance(DefaultNodeTTL + time.Second)
	if rep := e.report(t, node(evil), nil); rep.Known {
		t.Error("a report after the holder expired says the node was known")
	}
	if got := holderAddr(); got != evil {
		t.Errorf("after the holder expired n1 is at %q, want %s", got, evil)
	}
}
