package protocol

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
)
