package logic

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/rpc"
)

// TestPushMovesOffDeadJob: a job that cannot be reached (a link error)
// costs its pushes no error: the push goes to the next job at once, and
// later pushes skip the dead job until it reports again.
func TestPushMovesOffDeadJob(t *testing.T) {
	for _, linkErr := range []error{rpc.ErrUnavailable, rpc.ErrConnLost} {
		t.Run(linkErr.Error(), func(t *testing.T) {
			e := newTestEnv(t, nil)
			e.addComet(t, "c1", nil)
			e.addJob(t, "j1")
			e.addJob(t, "j2")
			now := e.clock.Now()
			room := RoomKey("live", "1")
			dead, _ := e.l.reg.pickJob(room, now)
			ctx := context.Background()
			if _, err := e.l.PushRoom(ctx, 1, room, []byte("warm up")); err != nil {
				t.Fatal(err)
			}
			e.jobs.get(dead.id).setErr(fmt.Errorf("jobrpc: push: %w", linkErr))
			for i := range 3 {
				if _, err := e.l.PushRoom(ctx, 1, room, []byte("m")); err != nil {
					t.Fatalf("push %d with job %s down: %v", i, dead.id, err)
				}
			}
			other := "j1"
			if dead.id == "j1" {
				other = "j2"
			}
			if got := len(e.jobs.get(other).received()); got != 3 {
				t.Errorf("job %s got %d pushes, want 3", other, got)
			}
			if j, _ := e.l.reg.pickJob(room, now); j.id != other {
				t.Errorf("room routes to %s while %s is down, want %s", j.id, dead.id, other)
			}
			// The dead job comes back and reports: it gets its rooms again.
			e.jobs.get(dead.id).setErr(nil)
			e.clock.Advance(time.Millisecond)
			e.addJob(t, dead.id)
			if j, _ := e.l.reg.pickJob(room, e.clock.Now()); j.id != dead.id {
				t.Errorf("room routes to %s after %s reported again", j.id, dead.id)
			}
		})
	}
}

// TestPushAppErrorNotRetried: an application error of the job (not a link
// error) fails the push without trying another job.
func TestPushAppErrorNotRetried(t *testing.T) {
	e := newTestEnv(t, nil)
	e.addComet(t, "c1", nil)
	e.addJob(t, "j1")
	e.addJob(t, "j2")
	room := RoomKey("live", "1")
	j, _ := e.l.reg.pickJob(room, e.clock.Now())
	if _, err := e.l.PushRoom(context.Background(), 1, room, []byte("warm up")); err != nil {
		t.Fatal(err)
	}
	e.jobs.get(j.id).setErr(jobrpc.ErrBadPush)
	if _, err := e.l.PushRoom(context.Background(), 1, room, []byte("m")); err == nil {
		t.Fatal("push succeeded; want the job's error")
	}
	if n := len(e.jobs.all()); n != 1 {
		t.Errorf("%d jobs got pushes, want only %s", n, j.id)
	}
}

// TestPushUnreachableCometOffline: keys on a comet the job has no link to
// count as offline: the push answers without error and Conns leaves them
// out.
func TestPushUnreachableCometOffline(t *testing.T) {
	e := newTestEnv(t, nil)
	e.addComet(t, "c1", nil)
	e.addComet(t, "c2", nil)
	e.addJob(t, "j1")
	e.connect(t, "c1", 1, `{"key":"k1"}`)
	e.connect(t, "c2", 2, `{"key":"k2"}`)
	if _, err := e.l.PushKeys(context.Background(), 1, []string{"k1"}, []byte("warm up")); err != nil {
		t.Fatal(err)
	}
	e.jobs.get("j1").setErrFor("c2", fmt.Errorf("jobrpc: %w", jobrpc.ErrCometUnreachable))
	res, err := e.l.PushKeys(context.Background(), 1, []string{"k1", "k2"}, []byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (PushResult{Conns: 1, Comets: 1}); res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
}

// TestPushRoomCountsLinkedComets: a room push's or broadcast's comets is
// the registry's live comets, or fewer when the job says it holds a live
// link to fewer (a dead comet still in the registry is not counted).
func TestPushRoomCountsLinkedComets(t *testing.T) {
	e := newTestEnv(t, nil)
	e.addComet(t, "c1", nil)
	e.addComet(t, "c2", nil)
	e.addJob(t, "j1")
	ctx := context.Background()
	room := RoomKey("live", "1")
	res, err := e.l.PushRoom(ctx, 1, room, []byte("m"))
	if err != nil || res.Comets != 2 {
		t.Fatalf("room push, the job not saying: %+v, %v; want 2 comets", res, err)
	}
	e.jobs.get("j1").setLinked(1)
	res, err = e.l.PushRoom(ctx, 1, room, []byte("m"))
	if err != nil || res.Comets != 1 {
		t.Errorf("room push, 1 comet linked: %+v, %v; want 1 comet", res, err)
	}
	res, err = e.l.PushAll(ctx, 1, 0, []byte("m"))
	if err != nil || res.Comets != 1 {
		t.Errorf("broadcast, 1 comet linked: %+v, %v; want 1 comet", res, err)
	}
	e.jobs.get("j1").setLinked(5)
	if res, _ := e.l.PushRoom(ctx, 1, room, []byte("m")); res.Comets != 2 {
		t.Errorf("room push, the job linked to more than the registry: %+v; want the registry's 2", res)
	}
}
