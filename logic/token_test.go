package logic

import (
	"errors"
	"strings"
	"testing"

	"github.com/goimx/goim/logic/logicrpc"
	"github.com/google/go-cmp/cmp"
)

func TestParseToken(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Token
		wantErr string // substring of the error; "" for success
	}{
		{"full", `{"mid": 123, "key": "k1", "room_id": "live://1000", "platform": "web", "accepts": [1000, 1001]}`,
			Token{Mid: 123, Key: "k1", RoomID: "live://1000", Platform: "web", Accepts: []int32{1000, 1001}}, ""},
		{"empty object", `{}`, Token{}, ""},
		{"unknown fields ignored", `{"mid":1,"extra":{"a":[1]}}`, Token{Mid: 1}, ""},
		{"platform normalised", `{"platform":" Android "}`, Token{Platform: "android"}, ""},
		{"spaces around", " \n{\"mid\":5}\t", Token{Mid: 5}, ""},
		{"empty", ``, Token{}, "empty"},
		{"blank", `   `, Token{}, "empty"},
		{"array", `[1,2]`, Token{}, "not a JSON object"},
		{"string", `"abc"`, Token{}, "not a JSON object"},
		{"truncated", `{"mid":1`, Token{}, "unexpected end"},
		{"mid string", `{"mid":"1"}`, Token{}, "mid"},
		{"mid float", `{"mid":1.5}`, Token{}, "mid"},
		{"mid overflow", `{"mid":99999999999999999999}`, Token{}, "mid"},
		{"negative mid", `{"mid":-1}`, Token{}, "negative mid"},
		{"accepts overflow", `{"accepts":[4294967296]}`, Token{}, "accepts"},
		{"accepts not list", `{"accepts":1000}`, Token{}, "accepts"},
		{"trailing garbage", `{"mid":1} x`, Token{}, "invalid character"},
		{"long key", `{"key":"` + strings.Repeat("k", maxKeyLen+1) + `"}`, Token{}, "key longer"},
		{"long room", `{"room_id":"` + strings.Repeat("r", maxRoomLen+1) + `"}`, Token{}, "room_id longer"},
		{"rooms", `{"room_id":"live://1","rooms":["chat://2","news://3"]}`,
			Token{RoomID: "live://1", Rooms: []string{"chat://2", "news://3"}}, ""},
		{"rooms longest id", `{"rooms":["` + strings.Repeat("r", maxRoomLen) + `"]}`,
			Token{Rooms: []string{strings.Repeat("r", maxRoomLen)}}, ""},
		{"rooms long id", `{"rooms":["a","` + strings.Repeat("r", maxRoomLen+1) + `"]}`, Token{}, "rooms[1] empty or longer"},
		{"rooms empty id", `{"rooms":[""]}`, Token{}, "rooms[0] empty"},
		{"rooms not list", `{"rooms":"chat://2"}`, Token{}, "rooms"},
		{"rooms too many", `{"rooms":[` + strings.Repeat(`"r",`, maxTokenRooms) + `"r"]}`, Token{}, "more than 256 rooms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseToken([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, logicrpc.ErrBadToken) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want logicrpc.ErrBadToken containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewKeyUnique(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		k := NewKey()
		if len(k) != 32 || seen[k] {
			t.Fatalf("key %q: bad length or duplicate", k)
		}
		seen[k] = true
	}
}

func FuzzParseToken(f *testing.F) {
	for _, s := range []string{
		`{"mid": 123, "key": "", "room_id": "live://1000", "platform": "web", "accepts": [1000, 1001]}`,
		`{}`, ``, `[]`, `{"mid":-1}`, `{"mid":"x"}`, `{"accepts":[1,2,3]}`, "{\"key\":\"\\u0000\"}",
		`{"room_id":"a","rooms":["b","c"]}`, `{"rooms":[""]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := ParseToken(b)
		if err != nil {
			if !errors.Is(err, logicrpc.ErrBadToken) {
				t.Fatalf("error %v does not wrap logicrpc.ErrBadToken", err)
			}
			return
		}
		if tok.Mid < 0 || len(tok.Key) > maxKeyLen || len(tok.RoomID) > maxRoomLen || len(tok.Accepts) > maxAccepts || !roomsOK(tok.Rooms) {
			t.Fatalf("accepted out-of-bounds token %+v", tok)
		}
	})
}

// roomsOK reports whether rooms is within the token's limits.
func roomsOK(rooms []string) bool {
	if len(rooms) > maxTokenRooms {
		return false
	}
	for _, id := range rooms {
		if id == "" || len(id) > maxRoomLen {
			return false
		}
	}
	return true
}
