package job

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

// TestKeysToDeadComet: once the comet's RPC server is gone, a push to its
// keys fails with ErrCometUnreachable (and is counted) instead of being
// accepted for a comet that cannot take it; a comet that is up takes it.
func TestKeysToDeadComet(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fc := newFakeComet("c1", false)
	s := rpc.NewServer(rpc.ServerConfig{}, slog.New(slog.DiscardHandler))
	cometrpc.Register(s, fc)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	logic := &fakeLogic{comets: []logicrpc.NodeInfo{{ID: "c1", Kind: logicrpc.KindComet, RPCAddr: ln.Addr().String()}}}
	j, err := New(Config{Logic: logic, NodeID: "job-dead", Client: rpc.ClientConfig{MinBackoff: time.Hour, MaxBackoff: time.Hour}}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	testwait.For(t, 10*time.Second, "the job to know the comet", func() bool { return len(j.Stats().Comets) == 1 })
	push := &jobrpc.PushMsg{Type: jobrpc.PushKeys, Server: "c1", Keys: rpc.MakeStringList("k"), Msg: []byte("m")}
	if err := j.Push(ctx, push); err != nil {
		t.Fatalf("push to a live comet: %v", err)
	}
	room := &jobrpc.PushMsg{Type: jobrpc.PushRoom, Room: "live://1", Msg: []byte("r")}
	if n, err := j.PushLinked(ctx, room); err != nil || n != 1 {
		t.Fatalf("room push with the comet linked: %d comets, %v; want 1", n, err)
	}
	s.Close()
	<-served
	testwait.For(t, 10*time.Second, "the push to the dead comet to fail", func() bool {
		err := j.Push(ctx, push)
		if err != nil && !errors.Is(err, jobrpc.ErrCometUnreachable) {
			t.Fatalf("push to a dead comet: %v, want ErrCometUnreachable", err)
		}
		return err != nil
	})
	if n, err := j.PushLinked(ctx, room); err != nil || n != 0 {
		t.Errorf("room push with the comet dead: %d comets, %v; want 0", n, err)
	}
	if st := j.Stats(); st.RejectedUnreachable == 0 {
		t.Errorf("stats = %+v: no unreachable push counted", st)
	}
}
