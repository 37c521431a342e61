package logicrpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"

	"github.com/goimx/goim/rpc"
)

// Failover is a Service over several logic nodes, which share their state
// (logic's Redis store): each call goes to the preferred node; when it
// fails for want of a link (rpc.ErrUnavailable, rpc.ErrConnLost,
// rpc.ErrClosed), the call is made again on the next address, and the
// first node that answers becomes the preferred one. An application error
// (a refused token, a failing store) is returned as it is, never retried
// elsewhere. A call that broke with ErrConnLost may have run on the node
// that was lost: every logic method is idempotent, so running it again on
// another node does no harm. Safe for concurrent use.
type Failover struct {
	clients []*Client
	pref    atomic.Int32 // index of the preferred client
}

// NewFailover returns a Failover over the logic nodes at addrs (at least
// one). Each node gets its own rpc.Client with cfg; the preferred node
// starts at a random one, so that many callers spread over the nodes.
func NewFailover(addrs []string, cfg rpc.ClientConfig, logger *slog.Logger) *Failover {
	if len(addrs) == 0 {
		panic("logicrpc: NewFailover without addresses")
	}
	f := &Failover{clients: make([]*Client, len(addrs))}
	for i, a := range addrs {
		f.clients[i] = NewClient(a, cfg, logger)
	}
	f.pref.Store(int32(rand.N(len(addrs))))
	return f
}

// SplitAddrs splits a comma-separated list of logic addresses, dropping
// blanks around each.
func SplitAddrs(list string) []string {
	var out []string
	for a := range strings.SplitSeq(list, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Addrs returns the addresses, in the order given.
func (f *Failover) Addrs() []string {
	out := make([]string, len(f.clients))
	for i, c := range f.clients {
		out[i] = c.RPC().Addr()
	}
	return out
}

// Preferred returns the address calls go to first now.
func (f *Failover) Preferred() string { return f.clients[f.pref.Load()].RPC().Addr() }

// Connected reports whether any node has a live connection.
func (f *Failover) Connected() bool {
	for _, c := range f.clients {
		if c.RPC().Connected() {
			return true
		}
	}
	return false
}

// Close closes every node's client.
func (f *Failover) Close() error {
	var errs []error
	for _, c := range f.clients {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// linkError reports whether err says the call found no working link to
// its node, so another node may take it.
func linkError(err error) bool {
	return errors.Is(err, rpc.ErrUnavailable) || errors.Is(err, rpc.ErrConnLost) || errors.Is(err, rpc.ErrClosed)
}

// callFailover runs m on the preferred client, then on the others in turn
// while m fails with a link error and ctx lasts. The first client that
// answers, even with an application error, becomes the preferred one.
func callFailover[Q, R any](f *Failover, ctx context.Context, req Q, m func(*Client, context.Context, Q) (R, error)) (R, error) {
	start, n := int(f.pref.Load()), len(f.clients)
	var errs []error
	for i := range n {
		k := (start + i) % n
		r, err := m(f.clients[k], ctx, req)
		if f.answered(start, i, k, err) {
			return r, err
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	var zero R
	return zero, noAnswer(errs)
}

// callFailoverErr is callFailover for the methods that return only an
// error (a loop of its own, so the per-message Heartbeat and Receive
// allocate nothing more than a plain Client).
func callFailoverErr[Q any](f *Failover, ctx context.Context, req Q, m func(*Client, context.Context, Q) error) error {
	start, n := int(f.pref.Load()), len(f.clients)
	var errs []error
	for i := range n {
		k := (start + i) % n
		err := m(f.clients[k], ctx, req)
		if f.answered(start, i, k, err) {
			return err
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return noAnswer(errs)
}

// answered reports whether the call on client k, the i-th tried of those
// from start, is over: it succeeded or failed for another reason than its
// link. A client that answered after others did not becomes the
// preferred one.
func (f *Failover) answered(start, i, k int, err error) bool {
	if err != nil && linkError(err) {
		return false
	}
	if i > 0 {
		f.pref.CompareAndSwap(int32(start), int32(k))
	}
	return true
}

// noAnswer is the error of a call no node answered.
func noAnswer(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return fmt.Errorf("logicrpc: no logic node answered: %w", errors.Join(errs...))
}

// Connect implements Service.
func (f *Failover) Connect(ctx context.Context, req *ConnectReq) (*ConnectReply, error) {
	return callFailover(f, ctx, req, (*Client).Connect)
}

// ConnectInto implements ConnectIntoService.
func (f *Failover) ConnectInto(ctx context.Context, req *ConnectReq, rep *ConnectReply) error {
	return callFailoverErr(f, ctx, connectInto{req, rep}, func(c *Client, ctx context.Context, a connectInto) error {
		return c.ConnectInto(ctx, a.req, a.rep)
	})
}

// connectInto is the request and reply of one ConnectInto call.
type connectInto struct {
	req *ConnectReq
	rep *ConnectReply
}

// Disconnect implements Service.
func (f *Failover) Disconnect(ctx context.Context, req *DisconnectReq) (*DisconnectReply, error) {
	return callFailover(f, ctx, req, (*Client).Disconnect)
}

// Heartbeat implements Service.
func (f *Failover) Heartbeat(ctx context.Context, req *HeartbeatReq) error {
	return callFailoverErr(f, ctx, req, (*Client).Heartbeat)
}

// Report implements Service.
func (f *Failover) Report(ctx context.Context, req *ReportReq) (*ReportReply, error) {
	return callFailover(f, ctx, req, (*Client).Report)
}

// Receive implements Service: the one-way message goes to the first node
// whose connection takes it.
func (f *Failover) Receive(ctx context.Context, req *ReceiveReq) error {
	return callFailoverErr(f, ctx, req, (*Client).Receive)
}

// Nodes implements Service.
func (f *Failover) Nodes(ctx context.Context, req *NodesReq) (*NodesReply, error) {
	return callFailover(f, ctx, req, (*Client).Nodes)
}

// Sessions implements Service.
func (f *Failover) Sessions(ctx context.Context, req *SessionsReq) error {
	return callFailoverErr(f, ctx, req, (*Client).Sessions)
}

// Resume implements ResumeService.
func (f *Failover) Resume(ctx context.Context, req *ResumeReq) (*ResumeReply, error) {
	return callFailover(f, ctx, req, (*Client).Resume)
}
