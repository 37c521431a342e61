//go:build !race

package job

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/rpc"
)

// TestPushAllocs pins the per-message path at zero allocations: a push
// taken, encoded, fanned out to three comets and released. "room" sends
// every message at once (the window is shorter than a delivery), "room
// batched" makes every message but the first wait for the window timer.
func TestPushAllocs(t *testing.T) {
	body := []byte("hello, room")
	tests := []struct {
		name string
		cfg  Config
		msg  *jobrpc.PushMsg
		fan  int64 // messages the comets get per push
	}{
		{"room", Config{BatchWindow: time.Nanosecond}, &jobrpc.PushMsg{Type: jobrpc.PushRoom, Op: 1000, Room: "live://1", Msg: body}, 3},
		{"room batched", Config{BatchWindow: 200 * time.Microsecond}, &jobrpc.PushMsg{Type: jobrpc.PushRoom, Op: 1000, Room: "live://1", Msg: body}, 3},
		{"keys", Config{}, &jobrpc.PushMsg{Type: jobrpc.PushKeys, Op: 1001, Server: "b", Keys: rpc.MakeStringList("k1", "k2"), Msg: body}, 1},
		{"all", Config{}, &jobrpc.PushMsg{Type: jobrpc.PushAll, Op: 1002, Speed: 100, Msg: body}, 3},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLightHarness(t, tt.cfg, "a", "b", "c")
			comets := h.allComets()
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
