package logicrpc

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/goimx/goim/rpc"
)

// Service is what logic offers to comets and jobs. Client implements it over
// the RPC; the logic tier implements it in process; Register serves an
// implementation on an rpc.Server.
type Service interface {
	// Connect authenticates a client token; an error refuses the connection.
	Connect(ctx context.Context, req *ConnectReq) (*ConnectReply, error)
	// Disconnect removes a closed connection's session, unless a newer
	// connection with the same key replaced it.
	Disconnect(ctx context.Context, req *DisconnectReq) (*DisconnectReply, error)
	// Heartbeat renews a connection's session.
	Heartbeat(ctx context.Context, req *HeartbeatReq) error
	// Report records a node's metadata and room counts and returns the
	// cluster-wide room counts.
	Report(ctx context.Context, req *ReportReq) (*ReportReply, error)
	// Receive takes an application message from a client. It is one-way
	// over the RPC; req.Body is valid only during the call.
	Receive(ctx context.Context, req *ReceiveReq) error
	// Nodes lists the live nodes of a kind.
	Nodes(ctx context.Context, req *NodesReq) (*NodesReply, error)
	// Sessions re-registers every session of one comet.
	Sessions(ctx context.Context, req *SessionsReq) error
}

// ConnectIntoService is what a Service may offer besides Connect: the
// same call answered into a reply the caller owns, so that a caller
// authenticating many connections (a comet) can reuse its replies rather
// than leave one behind per connection. Every field of rep is set on
// success; on error rep is unspecified. Client and Failover implement it.
type ConnectIntoService interface {
	ConnectInto(ctx context.Context, req *ConnectReq, rep *ConnectReply) error
}

// Client is the typed RPC client of the logic service. It implements
// Service and is safe for concurrent use.
type Client struct {
	c    *rpc.Client
	bufs sync.Pool // *[]byte scratch buffers for encoding requests
}

// NewClient returns a client for the logic RPC service at addr.
func NewClient(addr string, cfg rpc.ClientConfig, logger *slog.Logger) *Client {
	return &Client{c: rpc.NewClient(addr, cfg, logger)}
}

// RPC returns the underlying rpc.Client.
func (c *Client) RPC() *rpc.Client { return c.c }

// Close closes the underlying connection; pending calls fail.
func (c *Client) Close() error { return c.c.Close() }

type appender interface{ Append([]byte) []byte }

type decoder interface{ Decode([]byte) error }

func (c *Client) getBuf() *[]byte {
	if p, ok := c.bufs.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, 0, 512)
	return &b
}

// call encodes req, calls method and decodes the reply into rep (nil: no
// reply payload expected).
func (c *Client) call(ctx context.Context, method uint16, req appender, rep decoder) error {
	bp, rp := c.getBuf(), c.getBuf()
	defer c.bufs.Put(bp)
	defer c.bufs.Put(rp)
	buf := req.Append((*bp)[:0])
	*bp = buf[:0]
	out, err := c.c.Call(ctx, method, buf, (*rp)[:0])
	*rp = out[:0]
	if err != nil {
		return fmt.Errorf("logicrpc: method %d: %w", method, err)
	}
	if rep == nil {
		return nil
	}
	if err := rep.Decode(out); err != nil {
		return fmt.Errorf("logicrpc: method %d reply: %w", method, err)
	}
	return nil
}

// Connect implements Service.
func (c *Client) Connect(ctx context.Context, req *ConnectReq) (*ConnectReply, error) {
	rep := new(ConnectReply)
	if err := c.ConnectInto(ctx, req, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// ConnectInto implements ConnectIntoService.
func (c *Client) ConnectInto(ctx context.Context, req *ConnectReq, rep *ConnectReply) error {
	return c.call(ctx, MethodConnect, req, rep)
}

// Disconnect implements Service.
func (c *Client) Disconnect(ctx context.Context, req *DisconnectReq) (*DisconnectReply, error) {
	rep := new(DisconnectReply)
	if err := c.call(ctx, MethodDisconnect, req, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// Heartbeat implements Service.
func (c *Client) Heartbeat(ctx context.Context, req *HeartbeatReq) error {
	return c.call(ctx, MethodHeartbeat, req, nil)
}

// Report implements Service.
func (c *Client) Report(ctx context.Context, req *ReportReq) (*ReportReply, error) {
	rep := new(ReportReply)
	if err := c.call(ctx, MethodReport, req, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// Receive implements Service as a one-way message: it returns once the
// message is handed to the connection, not when logic handled it.
func (c *Client) Receive(ctx context.Context, req *ReceiveReq) error {
	bp := c.getBuf()
	defer c.bufs.Put(bp)
	buf := req.Append((*bp)[:0])
	*bp = buf[:0]
	if err := c.c.Send(ctx, MethodReceive, buf); err != nil {
		return fmt.Errorf("logicrpc: receive: %w", err)
	}
	return nil
}

// Nodes implements Service.
func (c *Client) Nodes(ctx context.Context, req *NodesReq) (*NodesReply, error) {
	rep := new(NodesReply)
	if err := c.call(ctx, MethodNodes, req, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// Sessions implements Service.
func (c *Client) Sessions(ctx context.Context, req *SessionsReq) error {
	return c.call(ctx, MethodSessions, req, nil)
}

// Register serves svc on s under the logic method numbers. A Receive that
// fails to decode or that svc fails to handle is reported back to its
// sender (rpc.ClientConfig.OnewayError).
func Register(s *rpc.Server, svc Service) {
	s.Handle(MethodConnect, func(ctx context.Context, p, reply []byte) ([]byte, error) {
		var req ConnectReq
		if err := req.Decode(p); err != nil {
			return nil, err
		}
		rep, err := svc.Connect(ctx, &req)
		if err != nil {
			return nil, err
		}
		return rep.Append(reply), nil
	})
	s.Handle(MethodDisconnect, func(ctx context.Context, p, reply []byte) ([]byte, error) {
		var req DisconnectReq
		if err := req.Decode(p); err != nil {
			return nil, err
		}
		rep, err := svc.Disconnect(ctx, &req)
		if err != nil {
			return nil, err
		}
		return rep.Append(reply), nil
	})
	s.Handle(MethodHeartbeat, func(ctx context.Context, p, reply []byte) ([]byte, error) {
		var req HeartbeatReq
		if err := req.Decode(p); err != nil {
			return nil, err
		}
		return reply, svc.Heartbeat(ctx, &req)
	})
	s.Handle(MethodReport, func(ctx context.Context, p, reply []byte) ([]byte, error) {
		var req ReportReq
		if err := req.Decode(p); err != nil {
			return nil, err
		}
		rep, err := svc.Report(ctx, &req)
		if err != nil {
			return nil, err
		}
		return rep.Append(reply), nil
	})
	s.HandleOneway(MethodReceive, func(ctx context.Context, p []byte) error {
		var req ReceiveReq
		if err := req.Decode(p); err != nil {
			return fmt.Errorf("logicrpc: bad receive message: %w", err)
		}
		if err := svc.Receive(ctx, &req); err != nil {
			return fmt.Errorf("logicrpc: receive from key %q: %w", req.Key, err)
		}
		return nil
	})
	s.Handle(MethodNodes, func(ctx context.Context, p, reply []byte) ([]byte, error) {
		var req NodesReq
		if err := req.Decode(p); err != nil {
			return nil, err
		}
		rep, err := svc.Nodes(ctx, &req)
		if err != nil {
			return nil, err
		}
		return rep.Append(reply), nil
	})
	s.Handle(MethodSessions, func(ctx context.Context, p, reply []byte) ([]byte, error) {
		var req SessionsReq
		if err := req.Decode(p); err != nil {
			return nil, err
		}
		return reply, svc.Sessions(ctx, &req)
	})
	registerResume(s, svc)
}
