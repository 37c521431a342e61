package logic

import (
	"errors"
	"strings"
	"testing"

	"github.com/goimx/goim/logic/logicrpc"
)

// TestParseTokenResume: room_seq and room_epoch are optional; a token
// resumes only with room_seq and a room; bad values refuse the token.
func TestParseTokenResume(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		resumes bool
		epoch   uint32
		seq     uint32
		wantErr string
	}{
		{"absent", `{"room_id":"live://1"}`, false, 0, 0, ""},
		{"seq and epoch", `{"room_id":"live://1","room_seq":42,"room_epoch":4294967295}`, true, 4294967295, 42, ""},
		{"seq zero asks for the epoch", `{"room_id":"live://1","room_seq":0}`, true, 0, 0, ""},
		{"epoch alone", `{"room_id":"live://1","room_epoch":7}`, false, 0, 0, ""},
		{"no room", `{"room_seq":3,"room_epoch":7}`, false, 0, 0, ""},
		{"negative seq", `{"room_id":"live://1","room_seq":-1}`, false, 0, 0, "room_seq"},
		{"seq overflow", `{"room_id":"live://1","room_seq":4294967296}`, false, 0, 0, "room_seq"},
		{"epoch string", `{"room_id":"live://1","room_seq":1,"room_epoch":"7"}`, false, 0, 0, "room_epoch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := ParseToken([]byte(tt.in))
			if tt.wantErr != "" {
				if !errors.Is(err, logicrpc.ErrBadToken) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrBadToken naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ok, epoch, seq := tok.resumes()
			if ok != tt.resumes || epoch != tt.epoch || seq != tt.seq {
				t.Errorf("resumes() = %v, %d, %d; want %v, %d, %d", ok, epoch, seq, tt.resumes, tt.epoch, tt.seq)
			}
		})
	}
}
