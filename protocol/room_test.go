package protocol

import (
	"bytes"
	"testing"
)

// TestRoomReply: AppendRoomReply and ParseRoomReply are inverses, an
// empty body is not a reply, and every status has words.
func TestRoomReply(t *testing.T) {
	tests := []struct {
		status RoomStatus
		room   string
		words  string
	}{
		{RoomOK, "live://1", "ok"},
		{RoomLimit, "chat://2", "too many rooms"},
		{RoomBadID, "", "bad room id"},
		{RoomNotMember, "x", "not in room"},
		{RoomStatus(9), "y", "unknown room status 9"},
	}
	for _, tt := range tests {
		body := AppendRoomReply([]byte("prefix"), tt.status, []byte(tt.room))[len("prefix"):]
		if len(body) != 1+len(tt.room) {
			t.Errorf("%v %q: body %q", tt.status, tt.room, body)
		}
		status, room, ok := ParseRoomReply(body)
		if !ok || status != tt.status || !bytes.Equal(room, []byte(tt.room)) {
			t.Errorf("ParseRoomReply(%q) = %v %q %v, want %v %q", body, status, room, ok, tt.status, tt.room)
		}
		if got := tt.status.String(); got != tt.words {
			t.Errorf("String() = %q, want %q", got, tt.words)
		}
	}
	if _, _, ok := ParseRoomReply(nil); ok {
		t.Error("ParseRoomReply(empty) ok")
	}
}
