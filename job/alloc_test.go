//go:build !race

package job

import (
	"context"
	"runtime"
	"testing"

	"github.com/goimx/goim/job/jobrpc"
)

// TestPushAllocs pins the per-message path at zero allocations: a push
// taken, encoded, fanned out to three comets and released.
func TestPushAllocs(t *testing.T) {
	h := newLightHarness(t, Config{}, "a", "b", "c")
	comets := h.allComets()
	body := []byte("hello, room")
	tests := []struct {
		name string
		msg  *jobrpc.PushMsg
		fan  int64 // messages the comets get per push
	}{
		{"room", &jobrpc.PushMsg{Type: jobrpc.PushRoom, Op: 1000, Room: "live://1", Msg: body}, 3},
		{"keys", &jobrpc.PushMsg{Type: jobrpc.PushKeys, Op: 1001, Server: "b", Keys: []string{"k1", "k2"}, Msg: body}, 1},
		{"all", &jobrpc.PushMsg{Type: jobrpc.PushAll, Op: 1002, Speed: 100, Msg: body}, 3},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := received(comets)
			push := func() {
				if err := h.job.Push(ctx, tt.msg); err != nil {
					t.Fatal(err)
				}
				want += tt.fan
				for received(comets) < want || !h.job.cometsIdle() {
					runtime.Gosched()
				}
			}
			for range 100 {
				push()
			}
			if n := testing.AllocsPerRun(1000, push); n != 0 {
				t.Errorf("%v allocs per push, want 0", n)
			}
		})
	}
}
