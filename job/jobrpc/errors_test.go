package jobrpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/goimx/goim/rpc"
)

// failingJob fails every push with err.
type failingJob struct{ err error }

func (f failingJob) Push(context.Context, *PushMsg) error { return f.err }

// TestErrorsOverRPC checks that each sentinel the job returns matches with
// errors.Is on the caller's side of a real RPC.
func TestErrorsOverRPC(t *testing.T) {
	for _, sentinel := range []*rpc.Error{ErrServerClosed, ErrBadPush, ErrUnknownComet, ErrCometUnreachable} {
		t.Run(sentinel.Error(), func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			s := rpc.NewServer(rpc.ServerConfig{}, slog.New(slog.DiscardHandler))
			Register(s, failingJob{err: fmt.Errorf("job: push: %w", sentinel)})
			served := make(chan error, 1)
			go func() { served <- s.Serve(ln) }()
			defer func() {
				s.Close()
				<-served
			}()
			c := NewClient(ln.Addr().String(), rpc.ClientConfig{}, slog.New(slog.DiscardHandler))
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = c.Push(ctx, &PushMsg{Type: PushRoom, Room: "r", Msg: []byte("m")})
			if !errors.Is(err, sentinel) {
				t.Fatalf("Push: %v does not match %v", err, sentinel)
			}
			for _, other := range []*rpc.Error{ErrServerClosed, ErrBadPush, ErrUnknownComet, ErrCometUnreachable} {
				if other != sentinel && errors.Is(err, other) {
					t.Errorf("Push: %v matches %v too", err, other)
				}
			}
		})
	}
}
