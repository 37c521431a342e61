package logicrpc

import (
	"context"
	"fmt"

	"github.com/goimx/goim/rpc"
)

// ResumeService is what a logic that routes room history offers besides
// Service: the messages of a room a resuming client missed, fetched from
// the job that owns the room. The logic tier and Client implement it.
type ResumeService interface {
	// Resume returns the room's epoch and last sequence number and, when
	// req names that epoch and the room's history still holds every
	// message after req.After, those messages.
	Resume(ctx context.Context, req *ResumeReq) (*ResumeReply, error)
}

// ResumeReq asks for the messages of Room after sequence number After of
// epoch Epoch.
type ResumeReq struct {
	Room  string // room id "type://id"
	Epoch uint32 // the epoch the client saw, 0 when it knows none
	After uint32 // the last sequence number the client saw
}

// ResumeReply answers a ResumeReq.
type ResumeReply struct {
	Epoch uint32 // the room's current epoch
	Last  uint32 // the room's last sequence number, 0 before its first message
	// Complete reports that Packets holds every message after req.After up
	// to Last.
	Complete bool
	// Packets are the missed messages as client packets back to back
	// (their seq in the header), oldest first; empty unless Complete.
	Packets []byte
}

// Append appends the encoded request to b.
func (m *ResumeReq) Append(b []byte) []byte {
	b = rpc.AppendString(b, m.Room)
	b = rpc.AppendUvarint(b, uint64(m.Epoch))
	return rpc.AppendUvarint(b, uint64(m.After))
}

// Decode decodes p into m.
func (m *ResumeReq) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Room = d.String()
	m.Epoch = uint32(d.Uvarint())
	m.After = uint32(d.Uvarint())
	return d.Finish()
}

// Append appends the encoded reply to b.
func (m *ResumeReply) Append(b []byte) []byte {
	b = rpc.AppendUvarint(b, uint64(m.Epoch))
	b = rpc.AppendUvarint(b, uint64(m.Last))
	b = rpc.AppendBool(b, m.Complete)
	return rpc.AppendBytes(b, m.Packets)
}

// Decode decodes p into m. m.Packets is a copy: the reply buffer it
// came in is reused.
func (m *ResumeReply) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Epoch = uint32(d.Uvarint())
	m.Last = uint32(d.Uvarint())
	m.Complete = d.Bool()
	m.Packets = append([]byte(nil), d.Bytes()...)
	return d.Finish()
}

// Resume implements ResumeService.
func (c *Client) Resume(ctx context.Context, req *ResumeReq) (*ResumeReply, error) {
	rep := new(ResumeReply)
	if err := c.call(ctx, MethodResume, req, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// registerResume serves svc's Resume on s when svc is a ResumeService.
func registerResume(s *rpc.Server, svc Service) {
	rs, ok := svc.(ResumeService)
	if !ok {
		return
	}
	s.Handle(MethodResume, func(ctx context.Context, p, reply []byte) ([]byte, error) {
		var req ResumeReq
		if err := req.Decode(p); err != nil {
			return nil, fmt.Errorf("logicrpc: bad resume request: %w", err)
		}
		rep, err := rs.Resume(ctx, &req)
		if err != nil {
			return nil, err
		}
		return rep.Append(reply), nil
	})
}
