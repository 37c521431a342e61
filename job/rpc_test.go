package job

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

// serveRPC serves an rpc.Server set up by register on a loopback listener
// and returns its address; the test's cleanup closes it.
func serveRPC(t *testing.T, register func(*rpc.Server)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := rpc.NewServer(rpc.ServerConfig{}, discardLogger())
	register(s)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		<-served
	})
	return ln.Addr().String()
}

// TestRPC runs the job over the real RPC: logic and two comets are rpc
// servers with fake services, the job dials them itself and serves
// jobrpc, and logic's side is a jobrpc.Client.
func TestRPC(t *testing.T) {
	logic := &fakeLogic{}
	comets := map[string]*fakeComet{"c1": newFakeComet("c1", false), "c2": newFakeComet("c2", false)}
	var nodes []logicrpc.NodeInfo
	for _, id := range []string{"c1", "c2"} {
		addr := serveRPC(t, func(s *rpc.Server) { cometrpc.Register(s, comets[id]) })
		nodes = append(nodes, logicrpc.NodeInfo{ID: id, Kind: logicrpc.KindComet, RPCAddr: addr})
	}
	logic.comets = nodes
	logicAddr := serveRPC(t, func(s *rpc.Server) { logicrpc.Register(s, logic) })

	lc := logicrpc.NewClient(logicAddr, rpc.ClientConfig{}, discardLogger())
	defer lc.Close()
	j, err := New(Config{Logic: lc, NodeID: "job-rpc"}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- j.Serve(ln) }()
	testwait.For(t, 10*time.Second, "job to know both comets", func() bool { return len(j.Stats().Comets) == 2 })
	testwait.For(t, 10*time.Second, "job report", func() bool {
		rep, ok := logic.lastReport()
		return ok && rep.Node.RPCAddr == ln.Addr().String() && rep.Node.Kind == logicrpc.KindJob
	})

	client := jobrpc.NewClient(ln.Addr().String(), rpc.ClientConfig{}, discardLogger())
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 200
	for i := range n {
		msg := &jobrpc.PushMsg{Type: jobrpc.PushRoom, Op: 1000, Room: "live://1", Msg: fmt.Appendf(nil, "m%d", i)}
		if err := client.Push(ctx, msg); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
	}
	pushes := []*jobrpc.PushMsg{
		{Type: jobrpc.PushKeys, Op: 1001, Server: "c2", Keys: rpc.MakeStringList("k"), Msg: []byte("key")},
		{Type: jobrpc.PushAll, Op: 1002, Speed: 10, Msg: []byte("all")},
	}
	for _, m := range pushes {
		linked, err := client.PushLinked(ctx, m)
		if err != nil {
			t.Fatalf("push %v: %v", m.Type, err)
		}
		// The count of linked comets travels in the reply: 1 for keys,
		// both comets (linked since the room pushes) for a broadcast.
		if want := map[jobrpc.PushType]int{jobrpc.PushKeys: 1, jobrpc.PushAll: 2}[m.Type]; linked != want {
			t.Errorf("push %v: %d linked comets, want %d", m.Type, linked, want)
		}
	}
	err = client.Push(ctx, &jobrpc.PushMsg{Type: jobrpc.PushKeys, Server: "nope", Keys: rpc.MakeStringList("k")})
	if !errors.Is(err, jobrpc.ErrUnknownComet) {
		t.Errorf("push to unknown comet: %v, want jobrpc.ErrUnknownComet", err)
	}

	for id, want := range map[string]int64{"c1": n + 1, "c2": n + 2} {
		c := comets[id]
		testwait.For(t, 10*time.Second, "messages at "+id, func() bool { return c.msgs.Load() == want })
		if got := c.roomBodies("live://1"); !slices.Equal(got, bodies(n)) {
			t.Errorf("comet %s: room bodies out of order or missing (%d)", id, len(got))
		}
		if all := c.broadcasts(); len(all) != 1 || all[0].Speed != 5 || string(all[0].Body) != "all" {
			t.Errorf("comet %s broadcasts = %+v", id, all)
		}
	}
	if keys := comets["c2"].keyPushes(); len(keys) != 1 || string(keys[0].Body) != "key" {
		t.Errorf("keys at c2 = %+v", keys)
	}

	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := j.Shutdown(sctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve = %v", err)
	}
	st := j.Stats()
	if st.Dropped() != 0 || st.PushRoom != n || st.RejectedUnknownComet != 1 {
		t.Errorf("stats = %+v", st)
	}
	t.Logf("%d room messages in %d batches", st.BatchedMsgs, st.Batches)
}

// refusingComet refuses every push with cometrpc.ErrServerClosed.
type refusingComet struct{ cometrpc.Service }

func (refusingComet) PushKeys(context.Context, *cometrpc.PushKeysReq) error {
	return cometrpc.ErrServerClosed
}

func (refusingComet) BroadcastRoom(context.Context, *cometrpc.BroadcastRoomReq) error {
	return cometrpc.ErrServerClosed
}

func (refusingComet) Broadcast(context.Context, *cometrpc.BroadcastReq) error {
	return cometrpc.ErrServerClosed
}

// TestCometSendErrorsBothLinks checks that the job counts the messages a
// comet refuses as send errors whether it reaches the comet by method
// calls or over the RPC (where pushes are one-way and the refusal comes
// back later).
func TestCometSendErrorsBothLinks(t *testing.T) {
	for _, direct := range []bool{true, false} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			comet := refusingComet{}
			addr := serveRPC(t, func(s *rpc.Server) { cometrpc.Register(s, comet) })
			logic := &fakeLogic{comets: []logicrpc.NodeInfo{{ID: "c1", Kind: logicrpc.KindComet, RPCAddr: addr}}}
			cfg := Config{Logic: logic, NodeID: "job-errors", BatchWindow: -1}
			if direct {
				cfg.DialComet = func(string) cometrpc.Service { return comet }
			}
			j, err := New(cfg, discardLogger())
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			testwait.For(t, 10*time.Second, "the job to know the comet", func() bool { return len(j.Stats().Comets) == 1 })
			pushes := []*jobrpc.PushMsg{
				{Type: jobrpc.PushRoom, Room: "live://1", Msg: []byte("room")},
				{Type: jobrpc.PushKeys, Server: "c1", Keys: rpc.MakeStringList("k"), Msg: []byte("key")},
				{Type: jobrpc.PushAll, Msg: []byte("all")},
			}
			for _, m := range pushes {
				if err := j.Push(ctx, m); err != nil {
					t.Fatalf("push %v: %v", m.Type, err)
				}
			}
			testwait.For(t, 10*time.Second, "three send errors, none delivered", func() bool {
				st := j.Stats()
				return st.DroppedSendError == 3 && st.Delivered == 0 && st.DeliveredMsgs == 0
			})
			if st := j.Stats(); st.Comets[0].Dropped != 3 || st.Comets[0].Delivered != 0 || st.Dropped() != 3 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}
