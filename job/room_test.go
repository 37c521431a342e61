package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/rpc"
)

func TestRoomSendsAtOnceWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const window = 10 * time.Millisecond
		h := newHarness(t, Config{BatchWindow: window}, []string{"a"})
		want := bodies(10)
		for i, b := range want {
			h.pushRoom("live://1", b)
			synctest.Wait()
			if got := h.job.Stats().Batches; got != uint64(i+1) {
				t.Fatalf("batches = %d after push %d, want %d (no wait when idle)", got, i, i+1)
			}
			time.Sleep(window)
		}
		a := h.comet("a")
		if got := a.roomBodies("live://1"); !slices.Equal(got, want) {
			t.Errorf("bodies = %v, want %v", got, want)
		}
		if got, want := a.batchSizes("live://1"), slices.Repeat([]int{1}, 10); !slices.Equal(got, want) {
			t.Errorf("batch sizes = %v, want %v (no batching when idle)", got, want)
		}
		if st := h.job.Stats(); st.Batches != 10 || st.BatchedMsgs != 10 || st.PushRoom != 10 {
			t.Errorf("stats = %+v, want 10 batches of 1", st)
		}
	})
}

// batchStep is one step of a TestRoomBatchRule case: sleep, push msgs
// messages, then expect batches sent so far.
type batchStep struct {
	sleep   time.Duration
	msgs    int
	batches uint64
}

// TestRoomBatchRule checks the batching rule in fake time: a message for
// a room that sent nothing within the window goes at once, later ones at
// the last send + window or when the batch is full, all in order.
func TestRoomBatchRule(t *testing.T) {
	const w = 10 * time.Millisecond
	ms := time.Millisecond
	tests := []struct {
		name      string
		cfg       Config
		bodyLen   int  // 0: bodies "m0", "m1"...
		blocked   bool // the comet blocks until the end
		steps     []batchStep
		wantSizes []int
	}{
		{"leading edge", Config{}, 0, false, []batchStep{{0, 1, 1}}, []int{1}},
		{"trailing flush at last send + window", Config{}, 0, false, []batchStep{
			{0, 1, 1}, {3 * ms, 2, 1}, {6 * ms, 1, 1}, {ms - 1, 0, 1}, {1, 0, 2}}, []int{1, 3}},
		{"window restarts at the trailing flush", Config{}, 0, false, []batchStep{
			{0, 1, 1}, {5 * ms, 1, 1}, {5 * ms, 0, 2}, {2 * ms, 1, 2}, {7 * ms, 0, 2}, {ms, 0, 3}}, []int{1, 1, 1}},
		{"idle again after a window", Config{}, 0, false, []batchStep{
			{0, 1, 1}, {w, 1, 2}, {w + ms, 1, 3}}, []int{1, 1, 1}},
		{"size", Config{BatchSize: 5}, 0, false, []batchStep{
			{0, 1, 1}, {ms, 12, 3}, {10*ms - 1, 0, 3}, {1, 0, 4}}, []int{1, 5, 5, 2}},
		{"default size", Config{}, 0, false, []batchStep{
			{0, DefaultBatchSize + 6, 2}, {w, 0, 3}}, []int{1, DefaultBatchSize, 5}},
		// 16-byte header + 40-byte body = 56 bytes: two make a full batch.
		{"bytes", Config{BatchBytes: 100}, 40, false, []batchStep{
			{0, 6, 3}, {w, 0, 4}}, []int{1, 2, 2, 1}},
		{"slow comet holds nothing back", Config{}, 0, true, []batchStep{
			{0, 1, 1}, {w, 1, 2}, {ms, 3, 2}, {w, 0, 3}}, []int{1, 1, 3}},
		{"off by size", Config{BatchSize: 1}, 0, false, []batchStep{{0, 4, 4}, {ms, 2, 6}}, slices.Repeat([]int{1}, 6)},
		{"off by window", Config{BatchWindow: -1}, 0, false, []batchStep{{0, 4, 4}}, slices.Repeat([]int{1}, 4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := tt.cfg
				if cfg.BatchWindow == 0 {
					cfg.BatchWindow = w
				}
				var blocked []string
				if tt.blocked {
					blocked = []string{"a"}
				}
				h := newHarness(t, cfg, []string{"a"}, blocked...)
				var want []string
				for i, st := range tt.steps {
					time.Sleep(st.sleep)
					for range st.msgs {
						b := fmt.Sprintf("m%d", len(want))
						if tt.bodyLen > 0 {
							b = fmt.Sprintf("%0*d", tt.bodyLen, len(want))
						}
						want = append(want, b)
						h.pushRoom("live://1", b)
					}
					synctest.Wait()
					if got := h.job.Stats().Batches; got != st.batches {
						t.Fatalf("step %d: batches = %d, want %d", i, got, st.batches)
					}
				}
				a := h.comet("a")
				a.unblock()
				time.Sleep(w)
				synctest.Wait()
				if got := a.batchSizes("live://1"); !slices.Equal(got, tt.wantSizes) {
					t.Errorf("batch sizes = %v, want %v", got, tt.wantSizes)
				}
				if got := a.roomBodies("live://1"); !slices.Equal(got, want) {
					t.Errorf("bodies = %v, want %v", got, want)
				}
			})
		})
	}
}

func TestRoomOrderUnderLoad(t *testing.T) {
	const rooms, perRoom = 4, 2000
	h := newHarness(t, Config{}, []string{"a", "b", "c"})
	var wg sync.WaitGroup
	for r := range rooms {
		wg.Go(func() {
			for _, b := range bodies(perRoom) {
				h.pushRoom(fmt.Sprintf("live://%d", r), b)
			}
		})
	}
	wg.Wait()
	for _, id := range []string{"a", "b", "c"} {
		h.waitMsgs(id, rooms*perRoom)
		for r := range rooms {
			if got := h.comet(id).roomBodies(fmt.Sprintf("live://%d", r)); !slices.Equal(got, bodies(perRoom)) {
				t.Fatalf("comet %s room %d: %d bodies, out of order or missing", id, r, len(got))
			}
		}
	}
	st := h.job.Stats()
	if st.BatchedMsgs != rooms*perRoom || st.Dropped() != 0 {
		t.Errorf("stats = %+v", st)
	}
	t.Logf("%d messages in %d batches", st.BatchedMsgs, st.Batches)
}

// TestRoomIdleExitAndRecreate: without history, an idle room is dropped
// between one and two timeouts (with history, once its history aged out:
// TestHistoryAge).
func TestRoomIdleExitAndRecreate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{RoomIdleTimeout: time.Second, HistorySize: -1}, []string{"a"})
		h.pushRoom("live://1", "m0")
		synctest.Wait()
		if got := h.job.Stats().Rooms; got != 1 {
			t.Fatalf("rooms = %d, want 1", got)
		}
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if got := h.job.Stats().Rooms; got != 1 {
			t.Fatalf("rooms = %d after 1.5 timeouts, want 1", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := h.job.Stats().Rooms; got != 0 {
			t.Fatalf("rooms = %d after 2.5 timeouts, want 0", got)
		}
		h.pushRoom("live://1", "m1")
		synctest.Wait()
		if got := h.comet("a").roomBodies("live://1"); !slices.Equal(got, []string{"m0", "m1"}) {
			t.Errorf("bodies = %v", got)
		}
	})
}

// TestRoomIdleRace pushes while rooms are swept every millisecond: no
// message may be lost or reordered when a room goes and comes back.
func TestRoomIdleRace(t *testing.T) {
	const rooms, perRoom = 3, 300
	h := newHarness(t, Config{RoomIdleTimeout: time.Millisecond, HistoryAge: time.Millisecond}, []string{"a", "b"})
	var wg sync.WaitGroup
	for r := range rooms {
		wg.Go(func() {
			for i, b := range bodies(perRoom) {
				h.pushRoom(fmt.Sprintf("live://%d", r), b)
				if i%10 == 0 {
					time.Sleep(time.Millisecond) // let the sweeper run
				}
			}
		})
	}
	wg.Wait()
	for _, id := range []string{"a", "b"} {
		h.waitMsgs(id, rooms*perRoom)
		for r := range rooms {
			if got := h.comet(id).roomBodies(fmt.Sprintf("live://%d", r)); !slices.Equal(got, bodies(perRoom)) {
				t.Fatalf("comet %s room %d: %d bodies, out of order or missing", id, r, len(got))
			}
		}
	}
	testwait.For(t, 10*time.Second, "idle rooms dropped", func() bool { return h.job.Stats().Rooms == 0 })
}

func TestPushRejects(t *testing.T) {
	h := newHarness(t, Config{}, []string{"a"})
	tests := []struct {
		name string
		msg  jobrpc.PushMsg
		want error
	}{
		{"room without room", jobrpc.PushMsg{Type: jobrpc.PushRoom, Msg: []byte("x")}, jobrpc.ErrBadPush},
		{"keys without keys", jobrpc.PushMsg{Type: jobrpc.PushKeys, Server: "a"}, jobrpc.ErrBadPush},
		{"unknown type", jobrpc.PushMsg{Type: 9}, jobrpc.ErrBadPush},
		{"unknown comet", jobrpc.PushMsg{Type: jobrpc.PushKeys, Server: "zz", Keys: rpc.MakeStringList("k")}, jobrpc.ErrUnknownComet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.job.Push(context.Background(), &tt.msg)
			if !errors.Is(err, tt.want) {
				t.Errorf("Push = %v, want %v", err, tt.want)
			}
		})
	}
	st := h.job.Stats()
	if st.RejectedBad != 3 || st.RejectedUnknownComet != 1 {
		t.Errorf("stats = %+v", st)
	}
}
