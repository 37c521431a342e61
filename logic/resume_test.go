package logic

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
)

// historyJob is a job that keeps history: it answers History with its
// id's epoch and records the requests.
type historyJob struct {
	epoch uint32
	mu    sync.Mutex // guards reqs, pushed
	reqs  []jobrpc.HistoryReq
	rooms []string // rooms pushed to
}

func (j *historyJob) Push(_ context.Context, m *jobrpc.PushMsg) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.rooms = append(j.rooms, m.Room)
	return nil
}

func (j *historyJob) History(_ context.Context, req *jobrpc.HistoryReq) (*jobrpc.HistoryReply, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.reqs = append(j.reqs, *req)
	return &jobrpc.HistoryReply{Epoch: j.epoch, Last: req.After + 2, Complete: true, Packets: []byte("pk")}, nil
}

// TestResumeRoutes: a resume goes to the job the room's pushes go to,
// and its answer comes back whole; without a live job, or with a job
// that keeps no history, it fails.
func TestResumeRoutes(t *testing.T) {
	jobs := map[string]*historyJob{"j1": {epoch: 1}, "j2": {epoch: 2}, "j3": {epoch: 3}}
	e := newTestEnv(t, func(c *Config) {
		c.DialJob = func(n logicrpc.NodeInfo) (jobrpc.Service, error) { return jobs[n.ID], nil }
	})
	ctx := context.Background()
	req := &logicrpc.ResumeReq{Room: "live://7", Epoch: 5, After: 10}
	if _, err := e.l.Resume(ctx, req); !errors.Is(err, ErrNoJob) {
		t.Fatalf("resume without jobs: %v, want ErrNoJob", err)
	}
	for id := range jobs {
		e.addJob(t, id)
	}
	if _, err := e.l.PushRoom(ctx, 1000, "live://7", []byte("x")); err != nil {
		t.Fatal(err)
	}
	rep, err := e.l.Resume(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var owner *historyJob
	for _, j := range jobs {
		if len(j.rooms) > 0 {
			owner = j
		}
	}
	if len(owner.reqs) != 1 || owner.reqs[0] != (jobrpc.HistoryReq{Room: "live://7", Epoch: 5, After: 10}) {
		t.Fatalf("the room's job got history requests %+v", owner.reqs)
	}
	want := logicrpc.ResumeReply{Epoch: owner.epoch, Last: 12, Complete: true, Packets: []byte("pk")}
	if rep.Epoch != want.Epoch || rep.Last != want.Last || !rep.Complete || string(rep.Packets) != "pk" {
		t.Errorf("reply %+v, want %+v", rep, want)
	}
	if _, err := e.l.Resume(ctx, &logicrpc.ResumeReq{}); !errors.Is(err, logicrpc.ErrBadRequest) {
		t.Errorf("resume without room: %v, want ErrBadRequest", err)
	}
}

// TestResumeJobWithoutHistory: a job that does not offer History makes
// Resume fail, so the comet tells the client to refetch.
func TestResumeJobWithoutHistory(t *testing.T) {
	e := newTestEnv(t, nil)
	e.addJob(t, "j1")
	if _, err := e.l.Resume(context.Background(), &logicrpc.ResumeReq{Room: "live://1"}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("resume via a job without history: %v, want ErrUnsupported", err)
	}
}

// TestConnectResume: Connect passes the token's room_seq and room_epoch
// on to the comet.
func TestConnectResume(t *testing.T) {
	e := newTestEnv(t, nil)
	rep := e.connect(t, "c1", 1, `{"key":"k","room_id":"live://1","room_seq":9,"room_epoch":4}`)
	if !rep.Resume || rep.RoomSeq != 9 || rep.RoomEpoch != 4 {
		t.Errorf("reply %+v, want resume 9 of epoch 4", rep)
	}
	if rep := e.connect(t, "c1", 2, `{"key":"k2","room_id":"live://1"}`); rep.Resume {
		t.Errorf("reply %+v resumes without room_seq", rep)
	}
}
