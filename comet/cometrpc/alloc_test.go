//go:build !race

package cometrpc

import (
	"context"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/rpc"
)

// keysCounter is a Service that counts the keys pushed to it.
type keysCounter struct{ keys atomic.Int64 }

func (k *keysCounter) PushKeys(_ context.Context, req *PushKeysReq) error {
	for range req.Keys.All() {
		k.keys.Add(1)
	}
	return nil
}

func (k *keysCounter) BroadcastRoom(context.Context, *BroadcastRoomReq) error { return nil }
func (k *keysCounter) Broadcast(context.Context, *BroadcastReq) error         { return nil }
func (k *keysCounter) Rooms(context.Context) ([]string, error)                { return nil, nil }

// TestPushKeysAllocs pins a push by key over the RPC, a job's Client to a
// Service registered on an rpc.Server, at zero allocations on both sides:
// the request comes from a pool and its keys are decoded in place.
func TestPushKeysAllocs(t *testing.T) {
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
	req := &PushKeysReq{Op: 1000, Keys: rpc.MakeStringList("k1", "k2"), Body: make([]byte, 64), Stamp: 1}
	ctx := context.Background()
	var want int64
	push := func() {
		if err := c.PushKeys(ctx, req); err != nil {
			t.Fatal(err)
		}
		want += 2
		for svc.keys.Load() < want {
			time.Sleep(20 * time.Microsecond) // lets the poller run, unlike Gosched
		}
	}
	push()
	if n := testing.AllocsPerRun(200, push); n != 0 {
		t.Errorf("%v allocs per push, want 0", n)
	}
}
