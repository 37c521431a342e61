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

	"github.com/goimx/goim/job/jobrpc"
)

func TestRoomSendsAtOnceWhenIdle(t *testing.T) {
	h := newHarness(t, Config{BatchWindow: time.Hour}, []string{"a"})
	want := bodies(10)
	for i, b := range want {
		h.pushRoom("live://1", b)
		h.waitMsgs("a", int64(i+1))
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
}

func TestRoomBatchFlush(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		msgs      int
		bodyLen   int // 0: bodies "m0", "m1"...
		wantSizes []int
		wantEarly uint64 // batches flushed before the comet takes the first
	}{
		// The first message goes at once and blocks in the comet; the rest
		// accumulate: full batches go out, the remainder when the comet
		// has taken them all.
		{"size", Config{BatchSize: 20, BatchWindow: time.Hour}, 46, 0, []int{1, 20, 20, 5}, 3},
		{"default size", Config{BatchWindow: time.Hour}, 26, 0, []int{1, 20, 5}, 2},
		// 16-byte header + 40-byte body = 56 bytes: two make a full batch.
		{"bytes", Config{BatchBytes: 100, BatchWindow: time.Hour}, 6, 40, []int{1, 2, 2, 1}, 3},
		{"off by size", Config{BatchSize: 1}, 4, 0, []int{1, 1, 1, 1}, 4},
		{"off by window", Config{BatchWindow: -1}, 4, 0, []int{1, 1, 1, 1}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.cfg, []string{"a"}, "a")
			var want []string
			for i := range tt.msgs {
				b := fmt.Sprintf("m%d", i)
				if tt.bodyLen > 0 {
					b = fmt.Sprintf("%0*d", tt.bodyLen, i)
				}
				want = append(want, b)
				h.pushRoom("live://1", b)
			}
			if got := h.job.Stats().Batches; got != tt.wantEarly {
				t.Errorf("batches before the comet took any = %d, want %d", got, tt.wantEarly)
			}
			a := h.comet("a")
			a.unblock()
			h.waitMsgs("a", int64(tt.msgs))
			if got := a.batchSizes("live://1"); !slices.Equal(got, tt.wantSizes) {
				t.Errorf("batch sizes = %v, want %v", got, tt.wantSizes)
			}
			if got := a.roomBodies("live://1"); !slices.Equal(got, want) {
				t.Errorf("bodies out of order: %v", got)
			}
		})
	}
}

func TestRoomBatchWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const window = 10 * time.Millisecond
		h := newHarness(t, Config{BatchWindow: window}, []string{"a"}, "a")
		start := time.Now()
		for _, b := range bodies(4) {
			h.pushRoom("live://1", b)
		}
		synctest.Wait()
		if got := h.job.Stats().Batches; got != 1 {
			t.Fatalf("batches = %d before the window, want 1", got)
		}
		time.Sleep(window - time.Millisecond)
		synctest.Wait()
		if got := h.job.Stats().Batches; got != 1 {
			t.Fatalf("batches = %d after %v, want 1", got, time.Since(start))
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if got := h.job.Stats().Batches; got != 2 {
			t.Fatalf("batches = %d after the window, want 2", got)
		}
		a := h.comet("a")
		a.unblock()
		synctest.Wait()
		if got := a.batchSizes("live://1"); !slices.Equal(got, []int{1, 3}) {
			t.Errorf("batch sizes = %v, want [1 3]", got)
		}
		if got := a.roomBodies("live://1"); !slices.Equal(got, bodies(4)) {
			t.Errorf("bodies = %v", got)
		}
	})
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

func TestRoomIdleExitAndRecreate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{RoomIdleTimeout: time.Second}, []string{"a"})
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
	h := newHarness(t, Config{RoomIdleTimeout: time.Millisecond}, []string{"a", "b"})
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
	waitFor(t, 10*time.Second, "idle rooms dropped", func() bool { return h.job.Stats().Rooms == 0 })
}

func TestPushRejects(t *testing.T) {
	h := newHarness(t, Config{}, []string{"a"})
	tests := []struct {
		name string
		msg  jobrpc.PushMsg
		want error
	}{
		{"room without room", jobrpc.PushMsg{Type: jobrpc.PushRoom, Msg: []byte("x")}, ErrBadPush},
		{"keys without keys", jobrpc.PushMsg{Type: jobrpc.PushKeys, Server: "a"}, ErrBadPush},
		{"unknown type", jobrpc.PushMsg{Type: 9}, ErrBadPush},
		{"unknown comet", jobrpc.PushMsg{Type: jobrpc.PushKeys, Server: "zz", Keys: []string{"k"}}, ErrUnknownComet},
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
