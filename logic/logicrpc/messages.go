// Package logicrpc is the logic tier's RPC surface: the messages comets and
// jobs send to logic, their encoding, a typed client, and the registration
// of a Service on an rpc.Server.
//
// Every message encodes by appending to a caller's buffer and decodes from
// a payload with rpc.Decoder. Byte slices in decoded messages alias the
// payload and are valid only while the payload is.
package logicrpc

import (
	"time"

	"github.com/goimx/goim/rpc"
)

// Method numbers of the logic RPC service.
const (
	MethodConnect    uint16 = 1
	MethodDisconnect uint16 = 2
	MethodHeartbeat  uint16 = 3
	MethodReport     uint16 = 4
	MethodReceive    uint16 = 5 // one-way
	MethodNodes      uint16 = 6
	MethodSessions   uint16 = 7
)

// Smallest encodings, used to bound counts read from a payload.
const (
	minNodeSize    = 13 // 9 empty strings/lists, weight, offline, two counts
	minSessionSize = 4  // mid, key length, conn id, room length
	// maxPrealloc caps the capacity reserved from a count read off the
	// wire, so a forged count costs no more than the elements that follow.
	maxPrealloc = 1024
)

// Node kinds reported in NodeInfo.Kind.
const (
	KindComet = "comet"
	KindJob   = "job"
)

// ConnectReq asks logic to authenticate a new client connection.
type ConnectReq struct {
	Server string // comet node id
	ConnID uint64 // unique per connection on its comet
	Addr   string // client remote address (ip:port), for logs and IP counts
	Token  []byte // the JSON auth token of the client protocol
}

// ConnectReply is logic's answer to an accepted ConnectReq.
type ConnectReply struct {
	Mid       int64         // user id, 0 for anonymous
	Key       string        // connection key, assigned by logic when the token had none
	RoomID    string        // room to join ("type://id"), empty for none
	Platform  string        // web, android, ios
	Accepts   []int32       // ops this connection receives by key, mid and broadcast
	Heartbeat time.Duration // deadline between two heartbeats (interval x allowed misses)
	Rooms     []string      // additional rooms to join besides RoomID, as the token named them
}

// DisconnectReq tells logic that a connection closed. Logic removes the
// session only if it still belongs to this (Server, ConnID): a newer
// connection with the same key keeps its mapping.
type DisconnectReq struct {
	Mid    int64
	Key    string
	Server string
	ConnID uint64
}

// DisconnectReply says whether logic still had the session.
type DisconnectReply struct {
	Has bool
}

// HeartbeatReq renews a connection's session (and restores it when logic
// lost it).
type HeartbeatReq struct {
	Mid    int64
	Key    string
	Server string
	ConnID uint64
}

// NodeInfo describes one comet or job node to the registry.
type NodeInfo struct {
	ID       string   // unique node id (the comet's "server" in sessions)
	Kind     string   // KindComet or KindJob
	RPCAddr  string   // host:port of the node's own RPC service
	Addrs    []string // public client addresses (IPs or host names) of a comet
	Hostname string
	Region   string
	Zone     string
	Env      string
	Version  string
	Weight   int32
	Offline  bool
	// ConnCount and IPCount are the comet's connection and distinct IP counts.
	ConnCount int32
	IPCount   int32
}

// ReportReq is a node's periodic report: its metadata and, for a comet,
// its per-room connection counts.
type ReportReq struct {
	Node      NodeInfo
	RoomCount map[string]int32 // room id -> connections on this node
}

// ReportReply carries the cluster-wide room counts back to a comet.
type ReportReply struct {
	// Epoch identifies the logic process; a comet that sees it change
	// re-sends its sessions (logic restarted and lost them).
	Epoch int64
	// Known is false when logic had no live record of the node before this
	// report, so a comet re-sends its sessions.
	Known     bool
	RoomCount map[string]int32 // room id -> connections across all comets
}

// ReceiveReq carries an application message a client sent to its comet.
type ReceiveReq struct {
	Mid  int64
	Key  string
	Op   int32
	Body []byte
}

// NodesReq asks for the live nodes of a kind.
type NodesReq struct {
	Kind string
}

// NodesReply lists live nodes.
type NodesReply struct {
	Nodes []NodeInfo
}

// Session is one connection a comet holds, re-sent in bulk after logic
// restarted.
type Session struct {
	Mid    int64
	Key    string
	ConnID uint64
	RoomID string
}

// SessionsReq re-registers every session of one comet.
type SessionsReq struct {
	Server   string
	Sessions []Session
}

// Append appends the encoded request to b.
func (m *ConnectReq) Append(b []byte) []byte {
	b = rpc.AppendString(b, m.Server)
	b = rpc.AppendUvarint(b, m.ConnID)
	b = rpc.AppendString(b, m.Addr)
	return rpc.AppendBytes(b, m.Token)
}

// Decode decodes p into m. m.Token aliases p.
func (m *ConnectReq) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Server = d.String()
	m.ConnID = d.Uvarint()
	m.Addr = d.String()
	m.Token = d.Bytes()
	return d.Finish()
}

// Append appends the encoded reply to b.
func (m *ConnectReply) Append(b []byte) []byte {
	b = rpc.AppendVarint(b, m.Mid)
	b = rpc.AppendString(b, m.Key)
	b = rpc.AppendString(b, m.RoomID)
	b = rpc.AppendString(b, m.Platform)
	b = rpc.AppendInt32s(b, m.Accepts)
	b = rpc.AppendVarint(b, int64(m.Heartbeat))
	return rpc.AppendStrings(b, m.Rooms)
}

// Decode decodes p into m.
func (m *ConnectReply) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Mid = d.Varint()
	m.Key = d.String()
	m.RoomID = d.String()
	m.Platform = d.String()
	m.Accepts = d.Int32s()
	m.Heartbeat = time.Duration(d.Varint())
	m.Rooms = d.Strings()
	return d.Finish()
}

// Append appends the encoded request to b.
func (m *DisconnectReq) Append(b []byte) []byte {
	b = rpc.AppendVarint(b, m.Mid)
	b = rpc.AppendString(b, m.Key)
	b = rpc.AppendString(b, m.Server)
	return rpc.AppendUvarint(b, m.ConnID)
}

// Decode decodes p into m.
func (m *DisconnectReq) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Mid = d.Varint()
	m.Key = d.String()
	m.Server = d.String()
	m.ConnID = d.Uvarint()
	return d.Finish()
}

// Append appends the encoded reply to b.
func (m *DisconnectReply) Append(b []byte) []byte { return rpc.AppendBool(b, m.Has) }

// Decode decodes p into m.
func (m *DisconnectReply) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Has = d.Bool()
	return d.Finish()
}

// Append appends the encoded request to b.
func (m *HeartbeatReq) Append(b []byte) []byte {
	b = rpc.AppendVarint(b, m.Mid)
	b = rpc.AppendString(b, m.Key)
	b = rpc.AppendString(b, m.Server)
	return rpc.AppendUvarint(b, m.ConnID)
}

// Decode decodes p into m.
func (m *HeartbeatReq) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Mid = d.Varint()
	m.Key = d.String()
	m.Server = d.String()
	m.ConnID = d.Uvarint()
	return d.Finish()
}

// Append appends the encoded node to b.
func (m *NodeInfo) Append(b []byte) []byte {
	b = rpc.AppendString(b, m.ID)
	b = rpc.AppendString(b, m.Kind)
	b = rpc.AppendString(b, m.RPCAddr)
	b = rpc.AppendStrings(b, m.Addrs)
	b = rpc.AppendString(b, m.Hostname)
	b = rpc.AppendString(b, m.Region)
	b = rpc.AppendString(b, m.Zone)
	b = rpc.AppendString(b, m.Env)
	b = rpc.AppendString(b, m.Version)
	b = rpc.AppendVarint(b, int64(m.Weight))
	b = rpc.AppendBool(b, m.Offline)
	b = rpc.AppendVarint(b, int64(m.ConnCount))
	return rpc.AppendVarint(b, int64(m.IPCount))
}

// decode reads a node from d; the caller checks d.Err.
func (m *NodeInfo) decode(d *rpc.Decoder) {
	m.ID = d.String()
	m.Kind = d.String()
	m.RPCAddr = d.String()
	m.Addrs = d.Strings()
	m.Hostname = d.String()
	m.Region = d.String()
	m.Zone = d.String()
	m.Env = d.String()
	m.Version = d.String()
	m.Weight = d.Int32()
	m.Offline = d.Bool()
	m.ConnCount = d.Int32()
	m.IPCount = d.Int32()
}

// Append appends the encoded request to b.
func (m *ReportReq) Append(b []byte) []byte {
	b = m.Node.Append(b)
	return rpc.AppendStringInt32Map(b, m.RoomCount)
}

// Decode decodes p into m.
func (m *ReportReq) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Node.decode(&d)
	m.RoomCount = d.StringInt32Map()
	return d.Finish()
}

// Append appends the encoded reply to b.
func (m *ReportReply) Append(b []byte) []byte {
	b = rpc.AppendVarint(b, m.Epoch)
	b = rpc.AppendBool(b, m.Known)
	return rpc.AppendStringInt32Map(b, m.RoomCount)
}

// Decode decodes p into m.
func (m *ReportReply) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Epoch = d.Varint()
	m.Known = d.Bool()
	m.RoomCount = d.StringInt32Map()
	return d.Finish()
}

// Append appends the encoded request to b.
func (m *ReceiveReq) Append(b []byte) []byte {
	b = rpc.AppendVarint(b, m.Mid)
	b = rpc.AppendString(b, m.Key)
	b = rpc.AppendVarint(b, int64(m.Op))
	return rpc.AppendBytes(b, m.Body)
}

// Decode decodes p into m. m.Body aliases p.
func (m *ReceiveReq) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Mid = d.Varint()
	m.Key = d.String()
	m.Op = d.Int32()
	m.Body = d.Bytes()
	return d.Finish()
}

// Append appends the encoded request to b.
func (m *NodesReq) Append(b []byte) []byte { return rpc.AppendString(b, m.Kind) }

// Decode decodes p into m.
func (m *NodesReq) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Kind = d.String()
	return d.Finish()
}

// Append appends the encoded reply to b.
func (m *NodesReply) Append(b []byte) []byte {
	b = rpc.AppendUvarint(b, uint64(len(m.Nodes)))
	for i := range m.Nodes {
		b = m.Nodes[i].Append(b)
	}
	return b
}

// Decode decodes p into m.
func (m *NodesReply) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	n := d.Uvarint()
	if n > uint64(d.Len()/minNodeSize) {
		return rpc.ErrTruncated
	}
	m.Nodes = make([]NodeInfo, 0, min(n, maxPrealloc))
	for range n {
		var node NodeInfo
		node.decode(&d)
		if d.Err() != nil {
			break
		}
		m.Nodes = append(m.Nodes, node)
	}
	return d.Finish()
}

// Append appends the encoded request to b.
func (m *SessionsReq) Append(b []byte) []byte {
	b = rpc.AppendString(b, m.Server)
	b = rpc.AppendUvarint(b, uint64(len(m.Sessions)))
	for _, s := range m.Sessions {
		b = rpc.AppendVarint(b, s.Mid)
		b = rpc.AppendString(b, s.Key)
		b = rpc.AppendUvarint(b, s.ConnID)
		b = rpc.AppendString(b, s.RoomID)
	}
	return b
}

// Decode decodes p into m.
func (m *SessionsReq) Decode(p []byte) error {
	d := rpc.NewDecoder(p)
	m.Server = d.String()
	n := d.Uvarint()
	if n > uint64(d.Len()/minSessionSize) {
		return rpc.ErrTruncated
	}
	m.Sessions = make([]Session, 0, min(n, maxPrealloc))
	for range n {
		var s Session
		s.Mid = d.Varint()
		s.Key = d.String()
		s.ConnID = d.Uvarint()
		s.RoomID = d.String()
		if d.Err() != nil {
			break
		}
		m.Sessions = append(m.Sessions, s)
	}
	return d.Finish()
}
