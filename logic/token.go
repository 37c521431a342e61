package logic

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/goimx/goim/logic/logicrpc"
)

// Limits on the fields of an auth token.
const (
	maxKeyLen  = 256
	maxRoomLen = 256
	maxAccepts = 1024
	// maxTokenRooms bounds a token's rooms list; the comet's own limit
	// on rooms per connection (16 by default) refuses lower.
	maxTokenRooms = 256
	maxPlatLen    = 32
	generatedKey  = 16 // random bytes of a key logic assigns
)

// Token is the client's JSON auth token (PROTOCOL.md, "Connection
// lifecycle"). Unknown fields are ignored, as goim did.
type Token struct {
	Mid      int64   `json:"mid"`
	Key      string  `json:"key"`
	RoomID   string  `json:"room_id"`
	Platform string  `json:"platform"`
	Accepts  []int32 `json:"accepts"`
	// Rooms names rooms to join besides RoomID, the primary room
	// (docs/protocol.md, "Several rooms per connection"); not in goim.
	Rooms  []string `json:"rooms"`
	Resume          // room_seq, room_epoch: optional (token_resume.go)
}

// ParseToken decodes and checks an auth token. Errors wrap logicrpc.ErrBadToken and
// name the problem. The platform is trimmed and lower-cased; other values
// are kept as sent. An empty key stays empty (see NewKey).
func ParseToken(b []byte) (Token, error) {
	var t Token
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return t, fmt.Errorf("%w: empty", logicrpc.ErrBadToken)
	}
	if b[0] != '{' {
		return t, fmt.Errorf("%w: not a JSON object", logicrpc.ErrBadToken)
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return Token{}, fmt.Errorf("%w: %v", logicrpc.ErrBadToken, err)
	}
	if err := t.check(); err != nil {
		return Token{}, err
	}
	t.Platform = strings.ToLower(strings.TrimSpace(t.Platform))
	return t, nil
}

// check validates the decoded fields.
func (t *Token) check() error {
	switch {
	case t.Mid < 0:
		return fmt.Errorf("%w: negative mid %d", logicrpc.ErrBadToken, t.Mid)
	case len(t.Key) > maxKeyLen:
		return fmt.Errorf("%w: key longer than %d bytes", logicrpc.ErrBadToken, maxKeyLen)
	case len(t.RoomID) > maxRoomLen:
		return fmt.Errorf("%w: room_id longer than %d bytes", logicrpc.ErrBadToken, maxRoomLen)
	case len(t.Platform) > maxPlatLen:
		return fmt.Errorf("%w: platform longer than %d bytes", logicrpc.ErrBadToken, maxPlatLen)
	case len(t.Accepts) > maxAccepts:
		return fmt.Errorf("%w: more than %d accepts", logicrpc.ErrBadToken, maxAccepts)
	case len(t.Rooms) > maxTokenRooms:
		return fmt.Errorf("%w: more than %d rooms", logicrpc.ErrBadToken, maxTokenRooms)
	}
	for i, id := range t.Rooms {
		if id == "" || len(id) > maxRoomLen {
			return fmt.Errorf("%w: rooms[%d] empty or longer than %d bytes", logicrpc.ErrBadToken, i, maxRoomLen)
		}
	}
	return nil
}

// NewKey returns a new random connection key: 128 bits in hex.
func NewKey() string {
	var b [generatedKey]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
