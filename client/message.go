package client

import (
	"encoding/binary"

	"github.com/goimx/goim/protocol"
)

// Message is one packet received from the server: a pushed message
// (Seq 0), or a reply to a request this client sent (same Seq as the
// request). Op-9 batches never appear as a Message: Read unpacks them.
type Message struct {
	// Op is the packet's operation (see the protocol package's Op
	// constants; pushes carry the application's own operation).
	Op int32
	// Seq is the packet's sequence number: 0 for pushes, the request's for
	// replies.
	Seq int32
	// Body is the payload; nil when empty. From Conn.Read it aliases the
	// Conn's read buffer and is valid only until the next Read; from
	// Conn.ReadOwned it belongs to the caller.
	Body []byte
}

// RoomReply returns what a reply to JoinRoom (op 21) or LeaveRoom (op 23)
// says: the status and the room it is about. ok is false when m is not
// such a reply.
func RoomReply(m Message) (status protocol.RoomStatus, room string, ok bool) {
	if m.Op != protocol.OpJoinRoomReply && m.Op != protocol.OpLeaveRoomReply {
		return 0, "", false
	}
	status, id, ok := protocol.ParseRoomReply(m.Body)
	return status, string(id), ok
}

// OnlineCount returns the room online count carried by a heartbeat reply
// (op 3, a 4-byte big-endian int32 body). ok is false when m is not a
// heartbeat reply or its body is not 4 bytes.
func OnlineCount(m Message) (count int32, ok bool) {
	if m.Op != protocol.OpHeartbeatReply || len(m.Body) != 4 {
		return 0, false
	}
	return int32(binary.BigEndian.Uint32(m.Body)), true
}
