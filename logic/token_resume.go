package logic

// Resume holds the optional token fields of a client that resumes its
// room (docs/protocol.md, "Room sequence numbers and resume"). A token
// without room_seq asks for nothing: the client sees goim's behaviour.
type Resume struct {
	// RoomSeq is the last room sequence number the client saw (0: none);
	// nil when the token has no room_seq.
	RoomSeq *uint32 `json:"room_seq,omitempty"`
	// RoomEpoch is the room epoch of RoomSeq (0: the client knows none).
	RoomEpoch uint32 `json:"room_epoch,omitempty"`
}

// resumes reports whether the token asks to resume its room, and from
// which epoch and sequence number.
func (t *Token) resumes() (ok bool, epoch, seq uint32) {
	if t.RoomSeq == nil || t.RoomID == "" {
		return false, 0, 0
	}
	return true, t.RoomEpoch, *t.RoomSeq
}
