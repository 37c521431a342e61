package job

import (
	"context"
	"fmt"
	"time"

	"github.com/goimx/goim/job/jobrpc"
)

// A Job keeps room history for clients that resume.
var _ jobrpc.HistoryService = (*Job)(nil)

// History implements jobrpc.HistoryService: it returns the room's epoch
// and last sequence number and, when req names that epoch and the
// history holds every message after req.After, those messages (copied).
// A room without state gets it now, with a new epoch, so the epoch
// answered is the one its next messages carry. It fails with
// ErrServerClosed once the job is shutting down.
func (j *Job) History(ctx context.Context, req *jobrpc.HistoryReq) (*jobrpc.HistoryReply, error) {
	if req.Room == "" {
		return nil, fmt.Errorf("%w: history without room", jobrpc.ErrBadPush)
	}
	if j.closing.Load() {
		return nil, ErrServerClosed
	}
	sh := j.rooms.shard(req.Room)
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		return nil, ErrServerClosed
	}
	r := sh.roomLocked(j, req.Room)
	r.mu.Lock()
	sh.mu.Unlock()
	defer r.mu.Unlock()
	r.touched = true
	rep := &jobrpc.HistoryReply{Epoch: r.epoch, Last: r.seq}
	if req.Epoch != r.epoch {
		j.stats.resumeReset.Add(1)
		return rep, nil
	}
	if j.cfg.HistorySize > 0 {
		r.hist.prune(time.Now(), j.cfg.HistoryAge)
	}
	rep.Packets, rep.Complete = r.hist.since(nil, req.After, r.seq)
	if rep.Complete {
		j.stats.resumeOK.Add(1)
	} else {
		j.stats.resumeReset.Add(1)
	}
	return rep, nil
}
