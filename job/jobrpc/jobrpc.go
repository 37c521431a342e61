// Package jobrpc is the job tier's RPC surface: the PushMsg logic hands to a
// job node, its encoding, a typed client, and the registration of a Service
// on an rpc.Server.
package jobrpc

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"

	"github.com/goimx/goim/rpc"
)

// Method numbers of the job RPC service.
const (
	MethodPush    uint16 = 1 // Service.Push
	MethodHistory uint16 = 2 // HistoryService.History
)

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
	Op     int32          // operation of the pushed packet
	Server string         // comet node id holding Keys (PushKeys)
	Keys   rpc.StringList // connection keys (PushKeys), in their wire encoding
	Room   string         // room id "type://id" (PushRoom)
	Speed  int32          // broadcast pace in connections per second, 0 = unpaced (PushAll)
	Msg    []byte         // the message body
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
	b = rpc.AppendStringList(b, m.Keys)
	b = rpc.AppendString(b, m.Room)
	b = rpc.AppendVarint(b, int64(m.Speed))
	b = rpc.AppendBytes(b, m.Msg)
	return rpc.AppendVarint(b, m.Stamp)
}

// Decode decodes p into m. m.Keys and m.Msg alias p.
func (m *PushMsg) Decode(p []byte) error {
	return m.decode(p, nil)
}

// decode is Decode, taking the Server id from servers when it is not nil.
func (m *PushMsg) decode(p []byte, servers *interner) error {
	if len(p) == 0 {
		return rpc.ErrTruncated
	}
	m.Type = PushType(p[0])
	d := rpc.NewDecoder(p[1:])
	m.Op = d.Int32()
	if servers != nil {
		m.Server = servers.get(d.Bytes())
	} else {
		m.Server = d.String()
	}
	m.Keys = d.StringList()
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
	// it. msg, and the Keys and Msg it holds, are valid only during the
	// call: an implementation copies what it keeps.
	Push(ctx context.Context, msg *PushMsg) error
}

// LinkedPusher is a Service that also says, for each push it takes, how
// many comets it holds a live link to and will hand the push to: every
// linked comet for a room push or a broadcast, the one comet of a keys
// push. Logic answers that number as a room push's comets, so that a
// comet that died and has not left the registry yet is not counted.
// Job and Client implement it; over the RPC the number travels in the
// push's reply (a job that sends none gives -1: unknown).
type LinkedPusher interface {
	Service
	// PushLinked is Push, also returning the number of linked comets the
	// push goes to (-1 when unknown).
	PushLinked(ctx context.Context, msg *PushMsg) (comets int, err error)
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
	_, err := c.PushLinked(ctx, msg)
	return err
}

// PushLinked implements LinkedPusher: Push, with the number of linked
// comets the job's reply carries, or -1 when the reply has none.
func (c *Client) PushLinked(ctx context.Context, msg *PushMsg) (int, error) {
	bp, ok := c.bufs.Get().(*[]byte)
	if !ok {
		b := make([]byte, 0, 1024)
		bp = &b
	}
	defer c.bufs.Put(bp)
	buf := msg.Append((*bp)[:0])
	*bp = buf[:0]
	rp, ok := c.bufs.Get().(*[]byte)
	if !ok {
		b := make([]byte, 0, 1024)
		rp = &b
	}
	defer c.bufs.Put(rp)
	rep, err := c.c.Call(ctx, MethodPush, buf, (*rp)[:0])
	*rp = rep[:0]
	if err != nil {
		return 0, fmt.Errorf("jobrpc: push %s to %s: %w", msg.Type, c.c.Addr(), err)
	}
	n, size := binary.Uvarint(rep)
	if size <= 0 {
		return -1, nil
	}
	return int(n), nil
}

// History implements HistoryService.
func (c *Client) History(ctx context.Context, req *HistoryReq) (*HistoryReply, error) {
	out, err := c.c.Call(ctx, MethodHistory, req.Append(nil), nil)
	if err != nil {
		return nil, fmt.Errorf("jobrpc: history of %q from %s: %w", req.Room, c.c.Addr(), err)
	}
	rep := new(HistoryReply)
	if err := rep.Decode(out); err != nil {
		return nil, fmt.Errorf("jobrpc: history reply from %s: %w", c.c.Addr(), err)
	}
	return rep, nil
}

// Register serves svc on s, and its History when svc is a HistoryService.
// A push is decoded without allocating: into a message of a pool, its
// Keys and Msg in place, its Server id one of the ids seen before.
func Register(s *rpc.Server, svc Service) {
	var (
		msgs    sync.Pool // *PushMsg
		servers interner
	)
	s.Handle(MethodPush, func(ctx context.Context, p, reply []byte) ([]byte, error) {
		msg, ok := msgs.Get().(*PushMsg)
		if !ok {
			msg = new(PushMsg)
		}
		defer func() {
			*msg = PushMsg{}
			msgs.Put(msg)
		}()
		if err := msg.decode(p, &servers); err != nil {
			return nil, fmt.Errorf("jobrpc: bad push: %w", err)
		}
		if lp, ok := svc.(LinkedPusher); ok {
			n, err := lp.PushLinked(ctx, msg)
			if err != nil {
				return nil, err
			}
			return binary.AppendUvarint(reply, uint64(max(n, 0))), nil
		}
		return reply, svc.Push(ctx, msg)
	})
	hs, ok := svc.(HistoryService)
	if !ok {
		return
	}
	s.Handle(MethodHistory, func(ctx context.Context, p, reply []byte) ([]byte, error) {
		var req HistoryReq
		if err := req.Decode(p); err != nil {
			return nil, fmt.Errorf("jobrpc: bad history request: %w", err)
		}
		rep, err := hs.History(ctx, &req)
		if err != nil {
			return nil, err
		}
		return rep.Append(reply), nil
	})
}
