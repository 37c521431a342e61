package cometrpc

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/goimx/goim/rpc"
)

// failingComet fails every method with err.
type failingComet struct{ err error }

func (f failingComet) PushKeys(context.Context, *PushKeysReq) error           { return f.err }
func (f failingComet) BroadcastRoom(context.Context, *BroadcastRoomReq) error { return f.err }
func (f failingComet) Broadcast(context.Context, *BroadcastReq) error         { return f.err }
func (f failingComet) Rooms(context.Context) ([]string, error)                { return nil, f.err }

// serve serves svc on a loopback rpc.Server until the test ends.
func serve(t *testing.T, svc Service) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := rpc.NewServer(rpc.ServerConfig{}, slog.New(slog.DiscardHandler))
	Register(s, svc)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		<-served
	})
	return ln.Addr().String()
}

// TestErrorsOverRPC checks that each sentinel the comet returns matches
// with errors.Is on the caller's side of a real RPC: from the Rooms call,
// and from each one-way push through the PushErrorReporter, with the
// number of messages the push carried.
func TestErrorsOverRPC(t *testing.T) {
	batch := []byte{0, 0, 0, 16, 0, 16, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0}
	batch = append(batch, batch...) // two packets
	for _, sentinel := range []*rpc.Error{ErrServerClosed, ErrEmptyPush} {
		t.Run(sentinel.Error(), func(t *testing.T) {
			addr := serve(t, failingComet{err: errors.Join(errors.New("context"), sentinel)})
			c := NewClient(addr, rpc.ClientConfig{}, slog.New(slog.DiscardHandler))
			defer c.Close()
			type failure struct {
				msgs uint64
				err  error
			}
			failures := make(chan failure, 3)
			c.OnPushError(func(msgs uint64, err error) { failures <- failure{msgs, err} })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := c.Rooms(ctx); !errors.Is(err, sentinel) {
				t.Errorf("Rooms: %v does not match %v", err, sentinel)
			}
			pushes := []struct {
				name string
				push func() error
				msgs uint64
			}{
				{"push keys", func() error { return c.PushKeys(ctx, &PushKeysReq{Keys: rpc.MakeStringList("k")}) }, 1},
				{"broadcast room", func() error { return c.BroadcastRoom(ctx, &BroadcastRoomReq{RoomID: "r", Batch: batch}) }, 2},
				{"broadcast", func() error { return c.Broadcast(ctx, &BroadcastReq{}) }, 1},
			}
			for _, p := range pushes {
				if err := p.push(); err != nil {
					t.Fatalf("%s: %v", p.name, err)
				}
				select {
				case f := <-failures:
					if f.msgs != p.msgs || !errors.Is(f.err, sentinel) {
						t.Errorf("%s: failure %d messages, %v; want %d, matching %v", p.name, f.msgs, f.err, p.msgs, sentinel)
					}
				case <-ctx.Done():
					t.Fatalf("%s: no failure reported", p.name)
				}
			}
		})
	}
}

func TestCountPackets(t *testing.T) {
	pkt := []byte{0, 0, 0, 16, 0, 16, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0}
	tests := []struct {
		name  string
		batch []byte
		want  uint32
	}{
		{"empty", nil, 0},
		{"one", pkt, 1},
		{"three", append(append(append([]byte{}, pkt...), pkt...), pkt...), 3},
		{"short tail", append(append([]byte{}, pkt...), 0, 0), 2},
		{"length past end", []byte{0, 0, 0, 99, 1}, 1},
		{"zero length", []byte{0, 0, 0, 0, 1, 2, 3, 4}, 1},
	}
	for _, tt := range tests {
		if got := countPackets(tt.batch); got != tt.want {
			t.Errorf("%s: %d packets, want %d", tt.name, got, tt.want)
		}
	}
}
