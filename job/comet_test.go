package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/rpc"
)

// TestFanoutBlockedComet checks that a comet that takes nothing holds up
// neither the others nor its rooms for more than the window, and that what
// it cannot take is counted.
func TestFanoutBlockedComet(t *testing.T) {
	const rooms, queue, chunk = 200, 64, 20
	h := newHarness(t, Config{CometQueueSize: queue, BatchWindow: 5 * time.Millisecond},
		[]string{"a", "b", "c"}, "c")
	c := h.comet("c")
	h.pushRoom("live://0", "m0")
	testwait.For(t, 10*time.Second, "comet c to block", func() bool { return c.calls.Load() == 1 })
	for r := 1; r < rooms; r++ {
		h.pushRoom(fmt.Sprintf("live://%d", r), fmt.Sprintf("m%d", r))
		if r%chunk == 0 { // keep the queues of a and b from filling
			h.waitMsgs("a", int64(r+1))
			h.waitMsgs("b", int64(r+1))
		}
	}
	// The same room again, while comet c still holds its first batch: it
	// goes out after the window instead of waiting for c.
	for _, b := range bodies(50) {
		h.pushRoom("live://0", "again-"+b)
	}
	for _, id := range []string{"a", "b"} {
		h.waitMsgs(id, rooms+50)
		got := h.comet(id).roomBodies("live://0")
		if len(got) != 51 || got[0] != "m0" || got[50] != "again-m49" {
			t.Errorf("comet %s room 0: %v", id, got)
		}
	}
	st := h.job.Stats()
	if want := uint64(rooms + 50 - 1 - queue); st.DroppedQueueFull != want {
		t.Errorf("DroppedQueueFull = %d, want %d", st.DroppedQueueFull, want)
	}
	if cs := st.Comets[2]; cs.ID != "c" || cs.Queued != queue || cs.Delivered != 0 {
		t.Errorf("comet c stats = %+v", cs)
	}
	h.job.Close()
	st = h.job.Stats()
	// One request cancelled in the comet, the queue dropped at close.
	if want := uint64(queue + 1); st.DroppedShutdown != want {
		t.Errorf("DroppedShutdown = %d, want %d", st.DroppedShutdown, want)
	}
	if want := uint64(2 * (rooms + 50)); st.DeliveredMsgs != want {
		t.Errorf("DeliveredMsgs = %d, want %d", st.DeliveredMsgs, want)
	}
}

func TestKeysGoOnlyToTheirComet(t *testing.T) {
	h := newHarness(t, Config{}, []string{"a", "b", "c"})
	err := h.job.Push(context.Background(), &jobrpc.PushMsg{
		Type: jobrpc.PushKeys, Op: 1001, Server: "b", Keys: rpc.MakeStringList("k1", "k2"), Msg: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	// A room message behind it: once every comet has it, a comet that
	// got the keys push has it too (each comet's queue is in order).
	h.pushRoom("live://1", "marker")
	for id, n := range map[string]int64{"a": 1, "b": 2, "c": 1} {
		h.waitMsgs(id, n)
	}
	want := []cometrpc.PushKeysReq{{Op: 1001, Keys: rpc.MakeStringList("k1", "k2"), Body: []byte("hi")}}
	for _, id := range []string{"a", "b", "c"} {
		got := h.comet(id).keyPushes()
		if id != "b" {
			if len(got) != 0 {
				t.Errorf("comet %s got keys pushes %v", id, got)
			}
			continue
		}
		if len(got) != 1 || got[0].Op != want[0].Op || !slices.Equal(got[0].Keys, want[0].Keys) ||
			string(got[0].Body) != "hi" {
			t.Errorf("comet b got %+v, want %+v", got, want)
		}
	}
	if st := h.job.Stats(); st.PushKeys != 1 {
		t.Errorf("PushKeys = %d", st.PushKeys)
	}
}

// TestKeysToNewComet checks that a push to a comet the job does not know
// yet fetches the list again instead of failing.
func TestKeysToNewComet(t *testing.T) {
	h := newHarness(t, Config{CometRefresh: time.Hour}, []string{"a"})
	push := func() error {
		return h.job.Push(context.Background(), &jobrpc.PushMsg{
			Type: jobrpc.PushKeys, Op: 1001, Server: "d", Keys: rpc.MakeStringList("k"), Msg: []byte("x")})
	}
	if err := push(); !errors.Is(err, jobrpc.ErrUnknownComet) {
		t.Fatalf("push to unknown comet: %v, want jobrpc.ErrUnknownComet", err)
	}
	h.logic.setComets("a", "d")
	// Fetches are at least minRefreshGap apart: retry until one happens.
	testwait.For(t, 10*time.Second, "push to the new comet", func() bool { return push() == nil })
	h.waitMsgs("d", 1)
	if got := h.comet("d").keyPushes(); len(got) != 1 || got[0].Keys.Strings()[0] != "k" {
		t.Errorf("comet d got %+v", got)
	}
}

func TestSplitSpeed(t *testing.T) {
	tests := []struct {
		speed int32
		n     int
		want  int32
	}{
		{0, 3, 0}, {-5, 3, 0}, {100, 0, 100}, {100, 1, 100}, {100, 3, 34}, {99, 3, 33},
		{1, 3, 1}, {2147483647, 2, 1073741824},
	}
	for _, tt := range tests {
		if got := splitSpeed(tt.speed, tt.n); got != tt.want {
			t.Errorf("splitSpeed(%d, %d) = %d, want %d", tt.speed, tt.n, got, tt.want)
		}
	}
}

func TestBroadcastSplitsSpeed(t *testing.T) {
	h := newHarness(t, Config{}, []string{"a", "b", "c"})
	for _, speed := range []int32{100, 0} {
		err := h.job.Push(context.Background(), &jobrpc.PushMsg{
			Type: jobrpc.PushAll, Op: 1002, Speed: speed, Msg: []byte("all")})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []cometrpc.BroadcastReq{{Op: 1002, Speed: 34, Body: []byte("all")}, {Op: 1002, Body: []byte("all")}}
	for _, id := range []string{"a", "b", "c"} {
		h.waitMsgs(id, 2)
		got := h.comet(id).broadcasts()
		if len(got) != 2 {
			t.Fatalf("comet %s got %d broadcasts", id, len(got))
		}
		for i := range got {
			if got[i].Op != want[i].Op || got[i].Speed != want[i].Speed || string(got[i].Body) != "all" {
				t.Errorf("comet %s broadcast %d = %+v, want %+v", id, i, got[i], want[i])
			}
		}
	}
}

func TestCometListFollowsLogic(t *testing.T) {
	h := newHarness(t, Config{CometRefresh: 5 * time.Millisecond}, []string{"a"})
	h.pushRoom("live://1", "m0")
	h.waitMsgs("a", 1)

	h.logic.setComets("a", "b")
	h.waitComets("a", "b")
	h.pushRoom("live://1", "m1")
	h.waitMsgs("a", 2)
	h.waitMsgs("b", 1)

	h.logic.setComets("b")
	h.waitComets("b")
	a := h.comet("a")
	// The list changes first, then the worker of a stops and closes it.
	testwait.For(t, 10*time.Second, "comet a closed", func() bool { return a.closed.Load() == 1 })
	h.pushRoom("live://1", "m2")
	h.waitMsgs("b", 2)
	if got := h.comet("b").roomBodies("live://1"); !slices.Equal(got, []string{"m1", "m2"}) {
		t.Errorf("comet b bodies = %v", got)
	}
	if got := a.roomBodies("live://1"); !slices.Equal(got, []string{"m0", "m1"}) {
		t.Errorf("comet a bodies = %v", got)
	}

	// While logic fails, the job keeps the comets it knows.
	h.logic.setNodesErr(errLogicDown)
	calls := h.logic.nodesCalls.Load()
	testwait.For(t, 10*time.Second, "two failed fetches", func() bool { return h.logic.nodesCalls.Load() >= calls+2 })
	if got := h.cometIDs(); !slices.Equal(got, []string{"b"}) {
		t.Errorf("comets after failed fetches = %v", got)
	}
}

func TestNoCometCounted(t *testing.T) {
	h := newHarness(t, Config{}, nil)
	h.pushRoom("live://1", "m0")
	if err := h.job.Push(context.Background(), &jobrpc.PushMsg{Type: jobrpc.PushAll, Msg: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if st := h.job.Stats(); st.DroppedNoComet != 2 || st.PushRoom != 1 || st.PushAll != 1 {
		t.Errorf("stats = %+v", st)
	}
}
