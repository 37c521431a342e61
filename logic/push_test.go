package logic

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestPushRouting checks that each push reaches the job its routing key
// hashes to, with the right comet and keys.
func TestPushRouting(t *testing.T) {
	e := httpEnv(t)
	now := e.clock.Now()
	jobOf := func(route string) string {
		j, ok := e.l.reg.pickJob(route, now)
		if !ok {
			t.Fatal("no job")
		}
		return j.id
	}
	ctx := context.Background()
	if _, err := e.l.PushMids(ctx, 1000, []int64{1, 2}, []byte("to mids")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.l.PushRoom(ctx, 1001, RoomKey("live", "1000"), []byte("to room")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.l.PushAll(ctx, 1002, 50, []byte("to all")); err != nil {
		t.Fatal(err)
	}
	want := make(map[string][]jobrpc.PushMsg)
	add := func(route string, m jobrpc.PushMsg) { want[jobOf(route)] = append(want[jobOf(route)], m) }
	add("c1", jobrpc.PushMsg{Type: jobrpc.PushKeys, Op: 1000, Server: "c1", Keys: []string{"k1", "k2"}, Msg: []byte("to mids")})
	add("c2", jobrpc.PushMsg{Type: jobrpc.PushKeys, Op: 1000, Server: "c2", Keys: []string{"k3"}, Msg: []byte("to mids")})
	add("live://1000", jobrpc.PushMsg{Type: jobrpc.PushRoom, Op: 1001, Room: "live://1000", Msg: []byte("to room")})
	add(routeAll, jobrpc.PushMsg{Type: jobrpc.PushAll, Op: 1002, Speed: 50, Msg: []byte("to all")})
	if diff := cmp.Diff(want, e.jobs.all(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("jobs received (-want +got):\n%s", diff)
	}
}

// TestPushRoomSpread checks that rooms spread over the jobs and that one
// room always goes through one job.
func TestPushRoomSpread(t *testing.T) {
	e := newTestEnv(t, nil)
	e.addJob(t, "j1")
	e.addJob(t, "j2")
	ctx := context.Background()
	for round := range 2 {
		for i := range 20 {
			if _, err := e.l.PushRoom(ctx, 1, fmt.Sprint("live://", i), []byte{byte(round)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	byRoom := make(map[string]string)
	for id, msgs := range e.jobs.all() {
		for _, m := range msgs {
			if prev, ok := byRoom[m.Room]; ok && prev != id {
				t.Errorf("room %s went through %s and %s", m.Room, prev, id)
			}
			byRoom[m.Room] = id
		}
	}
	if len(e.jobs.all()) != 2 {
		t.Errorf("20 rooms used %d jobs, want 2", len(e.jobs.all()))
	}
}

func TestPushJobError(t *testing.T) {
	e := httpEnv(t)
	boom := errors.New("queue full")
	e.jobs.failWith(boom)
	_, err := e.l.PushKeys(context.Background(), 1, []string{"k1", "k3"}, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the job's error", err)
	}
	j, _ := e.l.reg.pickJob("live://1", e.clock.Now())
	runHTTPCases(t, e.l.Handler(), []httpCase{{
		"room", "POST", "/goim/push/room?operation=1&type=live&room=1", "m", 200,
		`{"code":-500,"message":"push room via job ` + j.id + `: queue full"}`,
	}})
}
