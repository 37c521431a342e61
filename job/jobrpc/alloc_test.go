//go:build !race

package jobrpc

import (
	"context"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"

	"github.com/goimx/goim/rpc"
)

// keysCounter is a LinkedPusher that checks and counts the keys pushed.
type keysCounter struct{ keys atomic.Int64 }

func (k *keysCounter) Push(ctx context.Context, msg *PushMsg) error {
	_, err := k.PushLinked(ctx, msg)
	return err
}

func (k *keysCounter) PushLinked(_ context.Context, msg *PushMsg) (int, error) {
	if msg.Server != "comet-1" {
		return 0, ErrUnknownComet
	}
	for range msg.Keys.All() {
		k.keys.Add(1)
	}
	return 1, nil
}

// TestPushAllocs pins a push by key over the RPC, logic's Client to a
// Service registered on an rpc.Server, at zero allocations on both sides:
// the message comes from a pool, its keys are decoded in place and its
// comet id is interned.
func TestPushAllocs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	s := rpc.NewServer(rpc.ServerConfig{}, logger)
	svc := &keysCounter{}
	Register(s, svc)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	defer func() {
		s.Close()
		<-served
	}()
	c := NewClient(ln.Addr().String(), rpc.ClientConfig{}, logger)
	defer c.Close()
	msg := &PushMsg{Type: PushKeys, Op: 1000, Server: "comet-1", Keys: rpc.MakeStringList("k1", "k2"), Msg: make([]byte, 64), Stamp: 1}
	ctx := context.Background()
	push := func() {
		if n, err := c.PushLinked(ctx, msg); err != nil || n != 1 {
			t.Fatalf("push: %d, %v", n, err)
		}
	}
	push()
	if n := testing.AllocsPerRun(200, push); n != 0 {
		t.Errorf("%v allocs per push, want 0", n)
	}
	if got := svc.keys.Load(); got != 2*201+2 {
		t.Errorf("%d keys pushed, want %d", got, 2*201+2)
	}
}
