package protocol

import "strconv"

// Operations carried in Packet.Op (see PROTOCOL.md, "Operations"). Any other
// value from an authenticated client is an application message.
const (
	// OpHandshake is a client handshake (c→s, body unused).
	OpHandshake int32 = 0
	// OpHandshakeReply answers OpHandshake (s→c).
	OpHandshakeReply int32 = 1
	// OpHeartbeat is a client heartbeat (c→s, empty body).
	OpHeartbeat int32 = 2
	// OpHeartbeatReply answers OpHeartbeat (s→c); its body is the room's
	// online count as a big-endian int32 (see AppendHeartbeatReply).
	OpHeartbeatReply int32 = 3
	// OpSendMsg carries application bytes to forward to logic (c→s).
	OpSendMsg int32 = 4
	// OpSendMsgReply answers OpSendMsg (s→c).
	OpSendMsgReply int32 = 5
	// OpDisconnectReply tells the client it is being disconnected (s→c).
	OpDisconnectReply int32 = 6
	// OpAuth carries the JSON auth token (c→s).
	OpAuth int32 = 7
	// OpAuthReply answers a successful OpAuth (s→c, empty body).
	OpAuthReply int32 = 8
	// OpRaw is a pushed batch (s→c): on WebSocket the outer packet whose body
	// is one or more inner packets back to back (see AppendRawHeader).
	OpRaw int32 = 9
	// OpProtoReady is internal to goim's server and never on the wire; it
	// is listed to keep goim's op table whole, and nothing here uses it.
	OpProtoReady int32 = 10
	// OpProtoFinish is internal to goim's server and never on the wire; it
	// is listed to keep goim's op table whole, and nothing here uses it.
	OpProtoFinish int32 = 11
	// OpChangeRoom asks to move to the room named in the body; an empty body
	// leaves the current room (c→s).
	OpChangeRoom int32 = 12
	// OpChangeRoomReply answers OpChangeRoom (s→c).
	OpChangeRoomReply int32 = 13
	// OpSub adds the comma-separated decimal ops in the body to the
	// connection's accept set (c→s).
	OpSub int32 = 14
	// OpSubReply answers OpSub (s→c).
	OpSubReply int32 = 15
	// OpUnsub removes the comma-separated decimal ops in the body from the
	// connection's accept set (c→s).
	OpUnsub int32 = 16
	// OpUnsubReply answers OpUnsub (s→c).
	OpUnsubReply int32 = 17

	// OpJoinRoom asks to join the room named in the body as well as the
	// rooms the connection is in (c→s). Not one of goim's ops: see
	// docs/protocol.md, "Several rooms per connection".
	OpJoinRoom int32 = 20
	// OpJoinRoomReply answers OpJoinRoom (s→c): a RoomStatus byte, then
	// the room id of the request.
	OpJoinRoomReply int32 = 21
	// OpLeaveRoom asks to leave the room named in the body (c→s).
	OpLeaveRoom int32 = 22
	// OpLeaveRoomReply answers OpLeaveRoom (s→c): a RoomStatus byte, then
	// the room id of the request.
	OpLeaveRoomReply int32 = 23
)

// RoomStatus is the first body byte of OpJoinRoomReply and
// OpLeaveRoomReply.
type RoomStatus byte

// Room statuses.
const (
	// RoomOK: the connection is now in (join) or out of (leave) the room;
	// also when it already was.
	RoomOK RoomStatus = 0
	// RoomLimit: the join was refused, the connection is in as many rooms
	// as the server allows.
	RoomLimit RoomStatus = 1
	// RoomBadID: the room id is empty or longer than MaxRoomLen bytes.
	RoomBadID RoomStatus = 2
	// RoomNotMember: the leave named a room the connection is not in.
	RoomNotMember RoomStatus = 3
)

// MaxRoomLen is the longest room id, in bytes, a client may name (auth
// token, change room, join, leave).
const MaxRoomLen = 256

// String returns the status in words, e.g. "too many rooms".
func (s RoomStatus) String() string {
	switch s {
	case RoomOK:
		return "ok"
	case RoomLimit:
		return "too many rooms"
	case RoomBadID:
		return "bad room id"
	case RoomNotMember:
		return "not in room"
	}
	return "unknown room status " + strconv.Itoa(int(s))
}

// AppendRoomReply appends the body of a join or leave reply: status, then
// room.
func AppendRoomReply(dst []byte, status RoomStatus, room []byte) []byte {
	return append(append(dst, byte(status)), room...)
}

// ParseRoomReply splits the body of a join or leave reply. ok is false for
// an empty body.
func ParseRoomReply(body []byte) (status RoomStatus, room []byte, ok bool) {
	if len(body) == 0 {
		return 0, nil, false
	}
	return RoomStatus(body[0]), body[1:], true
}
