package cometrpc

import (
	"context"
	"fmt"
	"time"

	"github.com/goimx/goim/rpc"
)

// MethodDrain is the method number of Drain (a call).
const MethodDrain uint16 = 5

// DrainReq asks a comet to drain: report itself offline and close its
// clients paced over Duration, so that they reconnect to other comets.
type DrainReq struct {
	// Duration spreads the closes; zero or less means the comet's default.
	Duration time.Duration
}

// DrainReply answers a DrainReq.
type DrainReply struct {
	// Conns is the number of authenticated connections the drain will
	// close (those open when it started).
	Conns int32
	// Duration is the pacing in effect.
	Duration time.Duration
	// Already is true when a drain was in progress: the call started none.
	Already bool
}

// Append appends the encoded request to b.
func (m *DrainReq) Append(b []byte) []byte {
	return rpc.AppendVarint(b, int64(m.Duration))
}

// Decode decodes p into m.
func (m *DrainReq) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Duration = time.Duration(d.Varint())
	return d.Finish()
}

// Append appends the encoded reply to b.
func (m *DrainReply) Append(b []byte) []byte {
	b = rpc.AppendVarint(b, int64(m.Conns))
	b = rpc.AppendVarint(b, int64(m.Duration))
	return rpc.AppendBool(b, m.Already)
}

// Decode decodes p into m.
func (m *DrainReply) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Conns = d.Int32()
	m.Duration = time.Duration(d.Varint())
	m.Already = d.Bool()
	return d.Finish()
}

// Drainer is implemented by a Service that can be drained (the comet). It
// is separate from Service so that pushers (jobs) need not offer it;
// Register serves MethodDrain only for a Service that implements it.
type Drainer interface {
	Drain(ctx context.Context, req *DrainReq) (DrainReply, error)
}

// Drain implements Drainer over the RPC.
func (c *Client) Drain(ctx context.Context, req *DrainReq) (DrainReply, error) {
	out, err := c.c.Call(ctx, MethodDrain, req.Append(nil), nil)
	if err != nil {
		return DrainReply{}, fmt.Errorf("cometrpc: drain %s: %w", c.c.Addr(), err)
	}
	var rep DrainReply
	if err := rep.Decode(out); err != nil {
		return DrainReply{}, fmt.Errorf("cometrpc: drain reply: %w", err)
	}
	return rep, nil
}

// registerDrain serves MethodDrain on s when svc implements Drainer.
func registerDrain(s *rpc.Server, svc Service) {
	d, ok := svc.(Drainer)
	if !ok {
		return
	}
	s.Handle(MethodDrain, func(ctx context.Context, p, reply []byte) ([]byte, error) {
		var req DrainReq
		if err := req.Decode(p); err != nil {
			return nil, fmt.Errorf("cometrpc: bad drain: %w", err)
		}
		rep, err := d.Drain(ctx, &req)
		if err != nil {
			return nil, err
		}
		return rep.Append(reply), nil
	})
}
