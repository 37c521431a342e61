// Package jobrpc is the job tier's RPC surface: the PushMsg logic hands to a
// job node, its encoding, a typed client, and the registration of a Service
// on an rpc.Server.
package jobrpc

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/goimx/goim/rpc"
)

// MethodPush is the method number of Service.Push.
const MethodPush uint16 = 1

// PushType says who a PushMsg is for.
type PushType uint8

// The push types.
const (
	PushKeys PushType = 1 // the connections Keys on the comet Server
	PushRoom PushType = 2 // every connection in Room on every comet
	PushAll  PushType = 3 // every connection on every comet (op filtered)
)

// String returns the push type's name.
func (t PushType) String() string {
	switch t {
	case PushKeys:
		return "keys"
	case PushRoom:
		return "room"
	case PushAll:
		return "all"
	}
	return fmt.Sprintf("PushType(%d)", uint8(t))
}

// PushMsg is one push on its way from logic to the comets.
type PushMsg struct {
	Type   PushType
	Op     int32    // operation of the pushed packet
	Server string   // comet node id holding Keys (PushKeys)
	Keys   []string // connection keys (PushKeys)
	Room   string   // room id "type://id" (PushRoom)
	Speed  int32    // broadcast pace in connections per second, 0 = unpaced (PushAll)
	Msg    []byte   // the message body
	// Stamp is when logic accepted the push, in Unix nanoseconds by its
	// clock (0: unknown), carried to the comets for the end-to-end
	// latency. It is encoded last and optional: a message from a sender
	// without it decodes with 0.
	Stamp int64
}

// Append appends the encoded message to b.
func (m *PushMsg) Append(b []byte) []byte {
	b = append(b, byte(m.Type))
	b = rpc.AppendVarint(b, int64(m.Op))
	b = rpc.AppendString(b, m.Server)
	b = rpc.AppendStrings(b, m.Keys)
	b = rpc.AppendString(b, m.Room)
	b = rpc.AppendVarint(b, int64(m.Speed))
	b = rpc.AppendBytes(b, m.Msg)
	return rpc.AppendVarint(b, m.Stamp)
}

// Decode decodes p into m. m.Msg aliases p.
func (m *PushMsg) Decode(p []byte) error {
	if len(p) == 0 {
		return rpc.ErrTruncated
	}
	m.Type = PushType(p[0])
	d := rpc.NewDecoder(p[1:])
	m.Op = d.Int32()
	m.Server = d.String()
	m.Keys = d.Strings()
	m.Room = d.String()
	m.Speed = d.Int32()
	m.Msg = d.Bytes()
	m.Stamp = d.OptionalVarint()
	if err := d.Finish(); err != nil {
		return err
	}
	if m.Type < PushKeys || m.Type > PushAll {
		return fmt.Errorf("%w: push type %d", rpc.ErrMalformed, p[0])
	}
	return nil
}

// Service is what a job node offers to logic.
type Service interface {
	// Push accepts a message for delivery. A nil error means the job took
	// it; msg.Msg is valid only during the call.
	Push(ctx context.Context, msg *PushMsg) error
}

// Client is the typed RPC client of one job node. It implements Service and
// is safe for concurrent use.
type Client struct {
	c    *rpc.Client
	bufs sync.Pool // *[]byte scratch buffers for encoding
}

// NewClient returns a client for the job RPC service at addr.
func NewClient(addr string, cfg rpc.ClientConfig, logger *slog.Logger) *Client {
	return &Client{c: rpc.NewClient(addr, cfg, logger)}
}

// RPC returns the underlying rpc.Client.
func (c *Client) RPC() *rpc.Client { return c.c }

// Close closes the underlying connection.
func (c *Client) Close() error { return c.c.Close() }

// Push implements Service: it returns once the job acknowledged the message.
func (c *Client) Push(ctx context.Context, msg *PushMsg) error {
	bp, ok := c.bufs.Get().(*[]byte)
	if !ok {
		b := make([]byte, 0, 1024)
		bp = &b
	}
	defer c.bufs.Put(bp)
	buf := msg.Append((*bp)[:0])
	*bp = buf[:0]
	if _, err := c.c.Call(ctx, MethodPush, buf, nil); err != nil {
		return fmt.Errorf("jobrpc: push %s to %s: %w", msg.Type, c.c.Addr(), err)
	}
	return nil
}

// Register serves svc on s.
func Register(s *rpc.Server, svc Service) {
	s.Handle(MethodPush, func(ctx context.Context, p, reply []byte) ([]byte, error) {
		var msg PushMsg
		if err := msg.Decode(p); err != nil {
			return nil, fmt.Errorf("jobrpc: bad push: %w", err)
		}
		return reply, svc.Push(ctx, &msg)
	})
}
