package logic

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/rpc"
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
	add("c1", jobrpc.PushMsg{Type: jobrpc.PushKeys, Op: 1000, Server: "c1", Keys: rpc.MakeStringList("k1", "k2"), Msg: []byte("to mids")})
	add("c2", jobrpc.PushMsg{Type: jobrpc.PushKeys, Op: 1000, Server: "c2", Keys: rpc.MakeStringList("k3"), Msg: []byte("to mids")})
	add("live://1000", jobrpc.PushMsg{Type: jobrpc.PushRoom, Op: 1001, Room: "live://1000", Msg: []byte("to room")})
	add(routeAll, jobrpc.PushMsg{Type: jobrpc.PushAll, Op: 1002, Speed: 50, Msg: []byte("to all")})
	// Stamps are checked by TestRPCPushThroughJob.
	if diff := cmp.Diff(want, e.jobs.all(), cmpopts.EquateEmpty(), cmpopts.IgnoreFields(jobrpc.PushMsg{}, "Stamp")); diff != "" {
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

// TestPushSkipsDeadComet checks that keys whose comet left the registry
// (it died without disconnecting its clients) count as offline: they are
// not sent to a job, which would refuse the unknown comet and fail the
// whole push until the sessions expire.
func TestPushSkipsDeadComet(t *testing.T) {
	e := httpEnv(t)
	// c2 goes silent; c1 and the jobs keep reporting.
	e.clock.Advance(DefaultNodeTTL - time.Second)
	e.addComet(t, "c1", nil)
	e.addJob(t, "j1")
	e.addJob(t, "j2")
	e.clock.Advance(2 * time.Second)
	res, err := e.l.PushMids(context.Background(), 1, []int64{1, 2}, []byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (PushResult{Conns: 2, Comets: 1}); res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	for id, msgs := range e.jobs.all() {
		for _, m := range msgs {
			if m.Server != "c1" {
				t.Errorf("job %s got a push for comet %q", id, m.Server)
			}
		}
	}
	// c2 comes back (its sessions restored): its keys are online again.
	e.addComet(t, "c2", nil)
	res, err = e.l.PushMids(context.Background(), 1, []int64{2}, []byte("m"))
	if want := (PushResult{Conns: 1, Comets: 1}); err != nil || res != want {
		t.Errorf("after c2 came back: result = %+v, %v; want %+v", res, err, want)
	}
}

// TestPushPartialFailure checks that one failing job does not keep the
// other comets of a keys push from getting their message, and that the
// caller still sees the failure.
func TestPushPartialFailure(t *testing.T) {
	e := newTestEnv(t, nil)
	e.addComet(t, "c1", nil)
	e.addComet(t, "c2", nil)
	for _, id := range []string{"j1", "j2", "j3", "j4"} {
		e.addJob(t, id)
	}
	e.connect(t, "c1", 1, `{"key":"k1"}`)
	e.connect(t, "c2", 1, `{"key":"k3"}`)
	now := e.clock.Now()
	j1, _ := e.l.reg.pickJob("c1", now)
	j2, _ := e.l.reg.pickJob("c2", now)
	if j1.id == j2.id {
		t.Fatalf("test setup: comets c1 and c2 both route through %s", j1.id)
	}
	ctx := context.Background()
	if _, err := e.l.PushKeys(ctx, 1, []string{"k1", "k3"}, []byte("warm up")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("queue full")
	e.jobs.get(j1.id).setErr(boom) // c1 sorts first
	res, err := e.l.PushKeys(ctx, 1, []string{"k1", "k3"}, []byte("m"))
	if !errors.Is(err, boom) || !strings.HasSuffix(err.Error(), "(sent to 1 of 2 comets)") {
		t.Fatalf("err = %v, want the job's error and the comets reached", err)
	}
	if res.Comets != 1 {
		t.Errorf("result = %+v, want 1 comet reached", res)
	}
	got := e.jobs.get(j2.id).received()
	if len(got) != 2 || got[1].Server != "c2" || string(got[1].Msg) != "m" {
		t.Errorf("job %s for comet c2 received %+v, want the push", j2.id, got)
	}
}
