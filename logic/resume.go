package logic

import (
	"context"
	"errors"
	"fmt"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
)

// Logic routes history requests of resuming clients.
var _ logicrpc.ResumeService = (*Logic)(nil)

// Resume implements logicrpc.ResumeService: it asks the job that owns
// the room (the one its pushes go through) for the messages after
// req.After. It fails with ErrNoJob when no job is live, and when the
// job keeps no history.
func (l *Logic) Resume(ctx context.Context, req *logicrpc.ResumeReq) (*logicrpc.ResumeReply, error) {
	if req.Room == "" {
		return nil, fmt.Errorf("%w: resume without room", logicrpc.ErrBadRequest)
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.PushTimeout)
	defer cancel()
	j, ok := l.reg.pickJob(req.Room, l.cfg.Now())
	if !ok {
		return nil, ErrNoJob
	}
	svc, err := l.jobs.get(&j)
	if err != nil {
		return nil, err
	}
	hs, ok := svc.(jobrpc.HistoryService)
	if !ok {
		return nil, fmt.Errorf("logic: resume %q: job %s: %w", req.Room, j.id, errors.ErrUnsupported)
	}
	rep, err := hs.History(ctx, &jobrpc.HistoryReq{Room: req.Room, Epoch: req.Epoch, After: req.After})
	if err != nil {
		return nil, fmt.Errorf("logic: resume %q via job %s: %w", req.Room, j.id, err)
	}
	return &logicrpc.ResumeReply{Epoch: rep.Epoch, Last: rep.Last, Complete: rep.Complete, Packets: rep.Packets}, nil
}
