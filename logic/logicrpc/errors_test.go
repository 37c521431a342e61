package logicrpc

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

// failingLogic fails every method with err.
type failingLogic struct{ err error }

func (f failingLogic) Connect(context.Context, *ConnectReq) (*ConnectReply, error) {
	return nil, f.err
}

func (f failingLogic) Disconnect(context.Context, *DisconnectReq) (*DisconnectReply, error) {
	return nil, f.err
}
func (f failingLogic) Heartbeat(context.Context, *HeartbeatReq) error { return f.err }
func (f failingLogic) Report(context.Context, *ReportReq) (*ReportReply, error) {
	return nil, f.err
}
func (f failingLogic) Receive(context.Context, *ReceiveReq) error { return f.err }
func (f failingLogic) Nodes(context.Context, *NodesReq) (*NodesReply, error) {
	return nil, f.err
}
func (f failingLogic) Sessions(context.Context, *SessionsReq) error { return f.err }

// TestErrorsOverRPC checks that each sentinel logic returns matches with
// errors.Is on the caller's side of a real RPC, from every call and from
// the one-way Receive's failure report.
func TestErrorsOverRPC(t *testing.T) {
	sentinels := []*rpc.Error{ErrServerClosed, ErrBadToken, ErrBadNode, ErrBadRequest}
	for _, sentinel := range sentinels {
		t.Run(sentinel.Error(), func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			s := rpc.NewServer(rpc.ServerConfig{}, slog.New(slog.DiscardHandler))
			Register(s, failingLogic{err: fmt.Errorf("logic: %w", sentinel)})
			served := make(chan error, 1)
			go func() { served <- s.Serve(ln) }()
			defer func() {
				s.Close()
				<-served
			}()
			received := make(chan error, 1)
			cfg := rpc.ClientConfig{OnewayError: func(method uint16, _ uint32, err error) {
				if method == MethodReceive {
					received <- err
				}
			}}
			c := NewClient(ln.Addr().String(), cfg, slog.New(slog.DiscardHandler))
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			calls := map[string]func() error{
				"connect":    func() error { _, err := c.Connect(ctx, &ConnectReq{}); return err },
				"disconnect": func() error { _, err := c.Disconnect(ctx, &DisconnectReq{}); return err },
				"heartbeat":  func() error { return c.Heartbeat(ctx, &HeartbeatReq{}) },
				"report":     func() error { _, err := c.Report(ctx, &ReportReq{}); return err },
				"nodes":      func() error { _, err := c.Nodes(ctx, &NodesReq{}); return err },
				"sessions":   func() error { return c.Sessions(ctx, &SessionsReq{}) },
			}
			for name, call := range calls {
				err := call()
				if !errors.Is(err, sentinel) {
					t.Errorf("%s: %v does not match %v", name, err, sentinel)
				}
				for _, other := range sentinels {
					if other != sentinel && errors.Is(err, other) {
						t.Errorf("%s: %v matches %v too", name, err, other)
					}
				}
			}
			if err := c.Receive(ctx, &ReceiveReq{Key: "k"}); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-received:
				if !errors.Is(err, sentinel) {
					t.Errorf("receive: %v does not match %v", err, sentinel)
				}
			case <-ctx.Done():
				t.Fatal("receive: no failure reported")
			}
		})
	}
}
