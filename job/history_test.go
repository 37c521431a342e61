package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/protocol"
)

// histSeqs returns the sequence numbers and bodies of packets, a batch
// body, failing t on a malformed packet.
func histSeqs(t *testing.T, packets []byte) (seqs []uint32, bodies []string) {
	t.Helper()
	for p, err := range protocol.Packets(packets, 0) {
		if err != nil {
			t.Fatalf("history packets: %v", err)
		}
		seqs = append(seqs, uint32(p.Seq))
		bodies = append(bodies, string(p.Body))
	}
	return seqs, bodies
}

// seqRange returns the numbers from lo to hi, both included.
func seqRange(lo, hi uint32) []uint32 {
	var out []uint32
	for s := lo; s <= hi && lo > 0; s++ {
		out = append(out, s)
	}
	return out
}

// TestHistoryRing checks the count bound and since's answers on the
// history alone, with explicit times.
func TestHistoryRing(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name     string
		size     int
		adds     int // messages 1..adds, one second apart
		maxAge   time.Duration
		now      time.Duration // since t0, for prune
		after    uint32
		complete bool
		want     []uint32
	}{
		{"all kept", 5, 3, time.Hour, 3 * time.Second, 0, true, []uint32{1, 2, 3}},
		{"caught up", 5, 3, time.Hour, 3 * time.Second, 3, true, nil},
		{"count bound keeps last", 5, 12, time.Hour, 12 * time.Second, 7, true, seqRange(8, 12)},
		{"count bound gap", 5, 12, time.Hour, 12 * time.Second, 6, false, nil},
		{"age bound keeps young", 100, 10, 4500 * time.Millisecond, 10 * time.Second, 5, true, seqRange(6, 10)},
		{"age bound gap", 100, 10, 4500 * time.Millisecond, 10 * time.Second, 4, false, nil},
		{"all aged out, caught up", 100, 3, time.Second, time.Hour, 3, true, nil},
		{"all aged out, behind", 100, 3, time.Second, time.Hour, 2, false, nil},
		{"ahead of the room", 5, 3, time.Hour, 3 * time.Second, 4, false, nil},
		{"off", 0, 3, time.Hour, 3 * time.Second, 1, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h history
			for i := 1; i <= tt.adds; i++ {
				at := t0.Add(time.Duration(i) * time.Second)
				h.add(uint32(i), at, protocol.AppendPushSeq(nil, 1000, uint32(i), fmt.Appendf(nil, "m%d", i)), tt.size)
			}
			if h.n > max(tt.size, 0) {
				t.Fatalf("holds %d entries, size %d", h.n, tt.size)
			}
			h.prune(t0.Add(tt.now), tt.maxAge)
			got, complete := h.since(nil, tt.after, uint32(tt.adds))
			if complete != tt.complete {
				t.Fatalf("complete = %v, want %v", complete, tt.complete)
			}
			seqs, bodies := histSeqs(t, got)
			if !slices.Equal(seqs, tt.want) {
				t.Errorf("seqs = %v, want %v", seqs, tt.want)
			}
			for i, b := range bodies {
				if want := fmt.Sprintf("m%d", seqs[i]); b != want {
					t.Errorf("body of %d = %q, want %q", seqs[i], b, want)
				}
			}
		})
	}
}

// TestRoomSeq: room messages carry 1, 2, 3... per room in the packet's
// seq, each room its own; broadcasts keep seq 0.
func TestRoomSeq(t *testing.T) {
	h := newHarness(t, Config{BatchWindow: -1}, []string{"a"})
	for i := range 5 {
		h.pushRoom("live://1", fmt.Sprint("a", i))
		if i < 3 {
			h.pushRoom("live://2", fmt.Sprint("b", i))
		}
	}
	h.waitMsgs("a", 8)
	a := h.comet("a")
	if got := a.roomSeqs("live://1"); !slices.Equal(got, seqRange(1, 5)) {
		t.Errorf("room 1 seqs = %v, want 1..5", got)
	}
	if got := a.roomSeqs("live://2"); !slices.Equal(got, seqRange(1, 3)) {
		t.Errorf("room 2 seqs = %v, want 1..3", got)
	}
}

// TestHistoryResume: the job answers a history request with the room's
// epoch and last number, and the messages after the client's, until the
// history no longer reaches back (count) or the epoch differs.
func TestHistoryResume(t *testing.T) {
	h := newHarness(t, Config{HistorySize: 4}, []string{"a"})
	ctx := context.Background()
	rep, err := h.job.History(ctx, &jobrpc.HistoryReq{Room: "live://1"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Epoch == 0 || rep.Last != 0 || rep.Complete {
		t.Fatalf("history of a new room = %+v, want an epoch, last 0, not complete (epoch 0 asked)", rep)
	}
	epoch := rep.Epoch
	for i := 1; i <= 6; i++ {
		h.pushRoom("live://1", fmt.Sprint("m", i))
	}
	tests := []struct {
		epoch    uint32
		after    uint32
		complete bool
		want     []uint32
	}{
		{epoch, 6, true, nil},
		{epoch, 4, true, []uint32{5, 6}},
		{epoch, 2, true, []uint32{3, 4, 5, 6}},
		{epoch, 1, false, nil}, // 2 fell out of the 4 kept
		{epoch + 1, 4, false, nil},
		{epoch, 7, false, nil},
	}
	for _, tt := range tests {
		rep, err := h.job.History(ctx, &jobrpc.HistoryReq{Room: "live://1", Epoch: tt.epoch, After: tt.after})
		if err != nil {
			t.Fatal(err)
		}
		seqs, _ := histSeqs(t, rep.Packets)
		if rep.Epoch != epoch || rep.Last != 6 || rep.Complete != tt.complete || !slices.Equal(seqs, tt.want) {
			t.Errorf("history(epoch %d, after %d) = epoch %d last %d complete %v seqs %v, want epoch %d last 6 complete %v seqs %v",
				tt.epoch, tt.after, rep.Epoch, rep.Last, rep.Complete, seqs, epoch, tt.complete, tt.want)
		}
	}
	st := h.job.Stats()
	if st.ResumeOK != 3 || st.ResumeReset != 4 {
		t.Errorf("resume stats ok %d reset %d, want 3 and 4", st.ResumeOK, st.ResumeReset)
	}
	if _, err := h.job.History(ctx, &jobrpc.HistoryReq{}); !errors.Is(err, jobrpc.ErrBadPush) {
		t.Errorf("history without room: %v, want ErrBadPush", err)
	}
}

// TestHistoryAge: in fake time, messages older than HistoryAge leave the
// history, and a room whose history emptied is swept and comes back under
// a new epoch.
func TestHistoryAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const age = time.Minute
		h := newHarness(t, Config{HistoryAge: age, RoomIdleTimeout: 10 * time.Second}, []string{"a"})
		ctx := context.Background()
		h.pushRoom("live://1", "old")
		time.Sleep(age / 2)
		h.pushRoom("live://1", "young")
		first, err := h.job.History(ctx, &jobrpc.HistoryReq{Room: "live://1"})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(age/2 + time.Second) // "old" is past the age, "young" is not
		rep, err := h.job.History(ctx, &jobrpc.HistoryReq{Room: "live://1", Epoch: first.Epoch, After: 1})
		if err != nil {
			t.Fatal(err)
		}
		if seqs, bodies := histSeqs(t, rep.Packets); !rep.Complete || !slices.Equal(seqs, []uint32{2}) || bodies[0] != "young" {
			t.Errorf("after 1: complete %v seqs %v, want [2] young", rep.Complete, seqs)
		}
		rep, _ = h.job.History(ctx, &jobrpc.HistoryReq{Room: "live://1", Epoch: first.Epoch, After: 0})
		if rep.Complete {
			t.Errorf("after 0: complete although message 1 aged out")
		}
		if h.job.Stats().Rooms != 1 {
			t.Errorf("room swept while its history held a message")
		}
		time.Sleep(age + 30*time.Second) // everything aged out, sweeps ran
		synctest.Wait()
		if n := h.job.Stats().Rooms; n != 0 {
			t.Fatalf("rooms = %d after the history aged out, want 0", n)
		}
		rep, _ = h.job.History(ctx, &jobrpc.HistoryReq{Room: "live://1", Epoch: first.Epoch, After: 2})
		if rep.Epoch == first.Epoch || rep.Last != 0 || rep.Complete {
			t.Errorf("history of the recreated room = %+v, want a new epoch, last 0, not complete", rep)
		}
	})
}

// TestHistoryOff: with history off, numbers still count but a client
// behind is told to refetch.
func TestHistoryOff(t *testing.T) {
	h := newHarness(t, Config{HistorySize: -1}, []string{"a"})
	if c := h.job.Config(); c.HistorySize != -1 || c.HistoryAge != -1 {
		t.Fatalf("config %d %v, want both off", c.HistorySize, c.HistoryAge)
	}
	ctx := context.Background()
	first, _ := h.job.History(ctx, &jobrpc.HistoryReq{Room: "live://1"})
	h.pushRoom("live://1", "m1")
	h.pushRoom("live://1", "m2")
	rep, err := h.job.History(ctx, &jobrpc.HistoryReq{Room: "live://1", Epoch: first.Epoch, After: 1})
	if err != nil || rep.Complete || rep.Last != 2 || len(rep.Packets) != 0 {
		t.Errorf("history off: %+v %v, want last 2, not complete, no packets", rep, err)
	}
	rep, _ = h.job.History(ctx, &jobrpc.HistoryReq{Room: "live://1", Epoch: first.Epoch, After: 2})
	if !rep.Complete {
		t.Errorf("history off, caught up: not complete")
	}
}
