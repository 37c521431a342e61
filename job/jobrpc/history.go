package jobrpc

import (
	"context"

	"github.com/goimx/goim/rpc"
)

// HistoryService is what a job that keeps room history offers besides
// Service: the messages a resuming client missed. The job tier, Client and
// the in-process links implement it.
type HistoryService interface {
	// History returns the room's epoch and last sequence number and, when
	// req names that epoch and the history still holds every message after
	// req.After, those messages.
	History(ctx context.Context, req *HistoryReq) (*HistoryReply, error)
}

// HistoryReq asks a job for the messages of Room after sequence number
// After of epoch Epoch.
type HistoryReq struct {
	Room  string // room id "type://id"
	Epoch uint32 // the epoch the client saw, 0 when it knows none
	After uint32 // the last sequence number the client saw
}

// HistoryReply is a job's answer to a HistoryReq.
type HistoryReply struct {
	Epoch uint32 // the room's current epoch
	Last  uint32 // the room's last sequence number, 0 before its first message
	// Complete reports that Packets holds every message after req.After up
	// to Last: the epochs match and the history reaches back far enough.
	Complete bool
	// Packets are the missed messages as client packets back to back
	// (their seq in the header), oldest first; empty unless Complete.
	Packets []byte
}

// Append appends the encoded request to b.
func (m *HistoryReq) Append(b []byte) []byte {
	b = rpc.AppendString(b, m.Room)
	b = rpc.AppendUvarint(b, uint64(m.Epoch))
	return rpc.AppendUvarint(b, uint64(m.After))
}

// Decode decodes p into m.
func (m *HistoryReq) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Room = d.String()
	m.Epoch = uint32(d.Uvarint())
	m.After = uint32(d.Uvarint())
	return d.Finish()
}

// Append appends the encoded reply to b.
func (m *HistoryReply) Append(b []byte) []byte {
	b = rpc.AppendUvarint(b, uint64(m.Epoch))
	b = rpc.AppendUvarint(b, uint64(m.Last))
	b = rpc.AppendBool(b, m.Complete)
	return rpc.AppendBytes(b, m.Packets)
}

// Decode decodes p into m. m.Packets aliases p.
func (m *HistoryReply) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Epoch = uint32(d.Uvarint())
	m.Last = uint32(d.Uvarint())
	m.Complete = d.Bool()
	m.Packets = d.Bytes()
	return d.Finish()
}
