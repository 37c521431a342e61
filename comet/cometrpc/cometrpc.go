// Package cometrpc is the comet tier's RPC surface: the pushes a job sends
// to a comet, their encoding, a typed client, and the registration of a
// Service on an rpc.Server.
//
// Pushes are one-way messages: on one connection they are handled in the
// order they were sent, so a room's messages stay in order end to end. A
// push the comet fails to handle is reported back to the sender later
// (PushErrorReporter), with the comet's sentinel error (errors.go).
package cometrpc

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/goimx/goim/rpc"
)

// Method numbers of the comet RPC service.
const (
	MethodPushKeys      uint16 = 1 // one-way
	MethodBroadcastRoom uint16 = 2 // one-way
	MethodBroadcast     uint16 = 3 // one-way
	MethodRooms         uint16 = 4
)

// PushKeysReq pushes one message to connections by key. Only connections
// whose accept set holds Op receive it.
type PushKeysReq struct {
	Op    int32
	Keys  rpc.StringList // in their wire encoding
	Body  []byte
	Stamp int64 // when logic accepted the push, Unix nanoseconds (0: unknown); encoded last, optional
}

// BroadcastRoomReq pushes a batch to every connection in a room, with no op
// filter. Batch holds client packets back to back (protocol.AppendPush).
type BroadcastRoomReq struct {
	RoomID string
	Batch  []byte
	Stamp  int64 // when logic accepted the batch's oldest message, Unix nanoseconds (0: unknown)
}

// BroadcastReq pushes one message to every connection whose accept set
// holds Op, at most Speed connections per second (0: unpaced).
type BroadcastReq struct {
	Op    int32
	Speed int32
	Body  []byte
	Stamp int64 // when logic accepted the push, Unix nanoseconds (0: unknown)
}

// Append appends the encoded request to b.
func (m *PushKeysReq) Append(b []byte) []byte {
	b = rpc.AppendVarint(b, int64(m.Op))
	b = rpc.AppendStringList(b, m.Keys)
	b = rpc.AppendBytes(b, m.Body)
	return rpc.AppendVarint(b, m.Stamp)
}

// Decode decodes p into m. m.Keys and m.Body alias p.
func (m *PushKeysReq) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Op = d.Int32()
	m.Keys = d.StringList()
	m.Body = d.Bytes()
	m.Stamp = d.OptionalVarint()
	return d.Finish()
}

// Append appends the encoded request to b.
func (m *BroadcastRoomReq) Append(b []byte) []byte {
	b = rpc.AppendString(b, m.RoomID)
	b = rpc.AppendBytes(b, m.Batch)
	return rpc.AppendVarint(b, m.Stamp)
}

// Decode decodes p into m. m.Batch aliases p.
func (m *BroadcastRoomReq) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.RoomID = d.String()
	m.Batch = d.Bytes()
	m.Stamp = d.OptionalVarint()
	return d.Finish()
}

// Append appends the encoded request to b.
func (m *BroadcastReq) Append(b []byte) []byte {
	b = rpc.AppendVarint(b, int64(m.Op))
	b = rpc.AppendVarint(b, int64(m.Speed))
	b = rpc.AppendBytes(b, m.Body)
	return rpc.AppendVarint(b, m.Stamp)
}

// Decode decodes p into m. m.Body aliases p.
func (m *BroadcastReq) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Op = d.Int32()
	m.Speed = d.Int32()
	m.Body = d.Bytes()
	m.Stamp = d.OptionalVarint()
	return d.Finish()
}

// Service is what a comet offers to jobs. Requests, and the byte slices
// and string lists they hold, are valid only during the call: an
// implementation copies what it keeps.
type Service interface {
	PushKeys(ctx context.Context, req *PushKeysReq) error
	BroadcastRoom(ctx context.Context, req *BroadcastRoomReq) error
	Broadcast(ctx context.Context, req *BroadcastReq) error
	// Rooms lists the ids of the rooms with at least one connection.
	Rooms(ctx context.Context) ([]string, error)
}

// Client is the typed RPC client of one comet. It implements Service and
// PushErrorReporter and is safe for concurrent use. Its pushes are
// one-way: a nil error means the message was handed to the connection, not
// that it was delivered; the comet's failure to handle it comes back to
// the function set with OnPushError. Each push is sent with the number of
// client messages it carries as its rpc tag.
type Client struct {
	c       *rpc.Client
	bufs    sync.Pool                                  // *[]byte scratch buffers for encoding
	onError atomic.Pointer[func(uint64, error)]        // set by OnPushError
	next    func(method uint16, tag uint32, err error) // the config's own OnewayError
}

// NewClient returns a client for the comet RPC service at addr. A
// cfg.OnewayError is called as well as the function set by OnPushError.
func NewClient(addr string, cfg rpc.ClientConfig, logger *slog.Logger) *Client {
	c := &Client{next: cfg.OnewayError}
	cfg.OnewayError = c.onewayError
	c.c = rpc.NewClient(addr, cfg, logger)
	return c
}

// OnPushError implements PushErrorReporter.
func (c *Client) OnPushError(fn func(msgs uint64, err error)) { c.onError.Store(&fn) }

// onewayError is the rpc client's OnewayError: tag is the number of
// messages of the failed push.
func (c *Client) onewayError(method uint16, tag uint32, err error) {
	if fn := c.onError.Load(); fn != nil {
		(*fn)(uint64(tag), fmt.Errorf("cometrpc: method %d to %s: %w", method, c.c.Addr(), err))
	}
	if c.next != nil {
		c.next(method, tag, err)
	}
}

// RPC returns the underlying rpc.Client.
func (c *Client) RPC() *rpc.Client { return c.c }

// Close closes the underlying connection.
func (c *Client) Close() error { return c.c.Close() }

type appender interface{ Append([]byte) []byte }

// send encodes req and sends it one-way with msgs as its tag.
func (c *Client) send(ctx context.Context, method uint16, msgs uint32, req appender) error {
	bp, ok := c.bufs.Get().(*[]byte)
	if !ok {
		b := make([]byte, 0, 1024)
		bp = &b
	}
	defer c.bufs.Put(bp)
	buf := req.Append((*bp)[:0])
	*bp = buf[:0]
	if err := c.c.SendTagged(ctx, method, msgs, buf); err != nil {
		return fmt.Errorf("cometrpc: method %d to %s: %w", method, c.c.Addr(), err)
	}
	return nil
}

// PushKeys implements Service.
func (c *Client) PushKeys(ctx context.Context, req *PushKeysReq) error {
	return c.send(ctx, MethodPushKeys, 1, req)
}

// BroadcastRoom implements Service.
func (c *Client) BroadcastRoom(ctx context.Context, req *BroadcastRoomReq) error {
	return c.send(ctx, MethodBroadcastRoom, countPackets(req.Batch), req)
}

// Broadcast implements Service.
func (c *Client) Broadcast(ctx context.Context, req *BroadcastReq) error {
	return c.send(ctx, MethodBroadcast, 1, req)
}

// Rooms implements Service.
func (c *Client) Rooms(ctx context.Context) ([]string, error) {
	out, err := c.c.Call(ctx, MethodRooms, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("cometrpc: rooms from %s: %w", c.c.Addr(), err)
	}
	d := rpc.NewDecoder(out)
	rooms := d.Strings()
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("cometrpc: rooms reply: %w", err)
	}
	return rooms, nil
}

// Register serves svc on s. A push that fails to decode or that svc fails
// to handle is reported back to its sender (see PushErrorReporter). A push
// by key is decoded without allocating, into a request of a pool.
func Register(s *rpc.Server, svc Service) {
	var keysReqs sync.Pool // *PushKeysReq
	s.HandleOneway(MethodPushKeys, func(ctx context.Context, p []byte) error {
		req, ok := keysReqs.Get().(*PushKeysReq)
		if !ok {
			req = new(PushKeysReq)
		}
		defer func() {
			*req = PushKeysReq{}
			keysReqs.Put(req)
		}()
		if err := req.Decode(p); err != nil {
			return fmt.Errorf("cometrpc: bad push keys: %w", err)
		}
		return svc.PushKeys(ctx, req)
	})
	s.HandleOneway(MethodBroadcastRoom, func(ctx context.Context, p []byte) error {
		var req BroadcastRoomReq
		if err := req.Decode(p); err != nil {
			return fmt.Errorf("cometrpc: bad broadcast room: %w", err)
		}
		return svc.BroadcastRoom(ctx, &req)
	})
	s.HandleOneway(MethodBroadcast, func(ctx context.Context, p []byte) error {
		var req BroadcastReq
		if err := req.Decode(p); err != nil {
			return fmt.Errorf("cometrpc: bad broadcast: %w", err)
		}
		return svc.Broadcast(ctx, &req)
	})
	s.Handle(MethodRooms, func(ctx context.Context, _, reply []byte) ([]byte, error) {
		rooms, err := svc.Rooms(ctx)
		if err != nil {
			return nil, err
		}
		return rpc.AppendStrings(reply, rooms), nil
	})
	registerDrain(s, svc)
}
