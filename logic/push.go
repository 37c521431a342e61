package logic

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/rpc"
)

// routeAll is the routing key of broadcasts: every broadcast goes through
// the same job, which keeps them in order.
const routeAll = "all"

// PushResult says where a push was routed.
type PushResult struct {
	// Conns is how many connection keys a key or mid push found online.
	Conns int `json:"conns"`
	// Comets is how many comets the push was sent to: for keys and mids the
	// comets holding the keys found, for rooms and broadcasts every live
	// comet.
	Comets int `json:"comets"`
}

// pushScratch holds the per-push buffers, reused through Logic.scratch.
type pushScratch struct {
	routes []Route
	keys   rpc.StringList // the keys of one comet's group
	msg    jobrpc.PushMsg
	params params
	body   []byte
	out    []byte
	// accepted is when the push arrived, in Unix nanoseconds by the wall
	// clock (not Config.Now): jobrpc.PushMsg.Stamp, from which comets
	// measure the end-to-end latency.
	accepted int64
}

// getScratch returns a scratch for a push that arrives now.
func (l *Logic) getScratch() *pushScratch {
	sc, ok := l.scratch.Get().(*pushScratch)
	if !ok {
		sc = &pushScratch{body: make([]byte, 0, l.cfg.MaxMessageSize+1)}
	}
	sc.accepted = time.Now().UnixNano()
	return sc
}

// maxPooledItems bounds the list capacity a pooled scratch keeps, so one
// huge request does not pin its buffers forever; maxPooledKeyBytes bounds
// its encoded keys.
const (
	maxPooledItems    = 4096
	maxPooledKeyBytes = 256 << 10
)

// putScratch returns sc to the pool; sc must not be used afterwards.
func (l *Logic) putScratch(sc *pushScratch) {
	if cap(sc.routes) > maxPooledItems || cap(sc.keys) > maxPooledKeyBytes ||
		cap(sc.params.keys) > maxPooledItems || cap(sc.params.mids) > maxPooledItems ||
		cap(sc.params.rooms) > maxPooledItems {
		return
	}
	clear(sc.routes)
	sc.routes, sc.keys = sc.routes[:0], sc.keys[:0]
	sc.msg = jobrpc.PushMsg{}
	sc.params.reset()
	l.scratch.Put(sc)
}

// PushKeys pushes msg with operation op to the connections keys. Keys that
// are offline are skipped, not an error. It returns once a job accepted the
// message of every comet concerned.
func (l *Logic) PushKeys(ctx context.Context, op int32, keys []string, msg []byte) (PushResult, error) {
	sc := l.getScratch()
	defer l.putScratch(sc)
	res, err := l.pushKeys(ctx, sc, op, keys, msg)
	l.stats.countPush(pushKindKeys, err)
	return res, err
}

// PushMids pushes msg with operation op to every connection of the users
// mids. Users that are offline are skipped, not an error.
func (l *Logic) PushMids(ctx context.Context, op int32, mids []int64, msg []byte) (PushResult, error) {
	sc := l.getScratch()
	defer l.putScratch(sc)
	res, err := l.pushMids(ctx, sc, op, mids, msg)
	l.stats.countPush(pushKindMids, err)
	return res, err
}

// PushRoom pushes msg with operation op to every connection in room (the
// room id "type://id", see RoomKey).
func (l *Logic) PushRoom(ctx context.Context, op int32, room string, msg []byte) (PushResult, error) {
	sc := l.getScratch()
	defer l.putScratch(sc)
	res, err := l.pushRoom(ctx, sc, op, room, msg)
	l.stats.countPush(pushKindRoom, err)
	return res, err
}

// PushAll pushes msg with operation op to every connection accepting op,
// at most speed connections per second (0: unpaced).
func (l *Logic) PushAll(ctx context.Context, op, speed int32, msg []byte) (PushResult, error) {
	sc := l.getScratch()
	defer l.putScratch(sc)
	res, err := l.pushAll(ctx, sc, op, speed, msg)
	l.stats.countPush(pushKindAll, err)
	return res, err
}

func (l *Logic) pushKeys(ctx context.Context, sc *pushScratch, op int32, keys []string, msg []byte) (PushResult, error) {
	var err error
	sc.routes, err = l.sessions.AppendByKeys(ctx, sc.routes[:0], keys)
	if err != nil {
		return PushResult{}, fmt.Errorf("logic: look up keys: %w", err)
	}
	return l.pushRoutes(ctx, sc, op, msg)
}

func (l *Logic) pushMids(ctx context.Context, sc *pushScratch, op int32, mids []int64, msg []byte) (PushResult, error) {
	var err error
	sc.routes, err = l.sessions.AppendByMids(ctx, sc.routes[:0], mids)
	if err != nil {
		return PushResult{}, fmt.Errorf("logic: look up mids: %w", err)
	}
	return l.pushRoutes(ctx, sc, op, msg)
}

// pushRoutes sends one PushKeys message per live comet of sc.routes, each
// to the job that the comet id hashes to. Duplicate keys are sent once;
// keys on a comet that left the registry (it died without disconnecting
// them), or that the job has no live link to (it died and has not left
// the registry yet), count as offline: Conns counts only the keys handed
// to a job that holds a live link to their comet. A job that fails does
// not keep the other comets from getting their message: the error names
// the first failure and how many comets got the message anyway.
func (l *Logic) pushRoutes(ctx context.Context, sc *pushScratch, op int32, msg []byte) (PushResult, error) {
	rs := sc.routes
	slices.SortFunc(rs, compareRoutes)
	rs = slices.Compact(rs)
	var res PushResult
	if len(rs) == 0 {
		return res, nil
	}
	ctx, cancel := l.withPushTimeout(ctx)
	defer cancel()
	now := l.cfg.Now()
	var firstErr error
	failed := 0
	for len(rs) > 0 {
		server := rs[0].Server
		n := 1
		for n < len(rs) && rs[n].Server == server {
			n++
		}
		group := rs[:n]
		rs = rs[n:]
		if !l.reg.cometLive(server, now) {
			continue
		}
		err := l.sendKeys(ctx, sc, now, op, group, msg)
		switch {
		case err == nil:
			res.Conns += n
			res.Comets++
		case errors.Is(err, jobrpc.ErrCometUnreachable):
			// The comet is gone but still in the registry: its keys are
			// offline, as they will be once it leaves.
		default:
			res.Conns += n
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if firstErr != nil && res.Comets > 0 {
		return res, fmt.Errorf("%w (sent to %d of %d comets)", firstErr, res.Comets, res.Comets+failed)
	}
	return res, firstErr
}

// sendKeys sends msg to the keys of group, which are all on one comet.
func (l *Logic) sendKeys(ctx context.Context, sc *pushScratch, now time.Time, op int32, group []Route, msg []byte) error {
	server := group[0].Server
	sc.keys = rpc.AppendUvarint(sc.keys[:0], uint64(len(group)))
	for _, r := range group {
		sc.keys = rpc.AppendString(sc.keys, r.Key)
	}
	sc.msg = jobrpc.PushMsg{Type: jobrpc.PushKeys, Op: op, Server: server, Keys: sc.keys, Msg: msg, Stamp: sc.accepted}
	_, err := l.sendJob(ctx, now, server, &sc.msg)
	return err
}

func (l *Logic) pushRoom(ctx context.Context, sc *pushScratch, op int32, room string, msg []byte) (PushResult, error) {
	sc.msg = jobrpc.PushMsg{Type: jobrpc.PushRoom, Op: op, Room: room, Msg: msg, Stamp: sc.accepted}
	return l.pushFanout(ctx, room, &sc.msg)
}

func (l *Logic) pushAll(ctx context.Context, sc *pushScratch, op, speed int32, msg []byte) (PushResult, error) {
	sc.msg = jobrpc.PushMsg{Type: jobrpc.PushAll, Op: op, Speed: speed, Msg: msg, Stamp: sc.accepted}
	return l.pushFanout(ctx, routeAll, &sc.msg)
}

// pushFanout hands a room push or broadcast to the job that route hashes
// to. Its comets count is the live comets of the registry, or fewer when
// the job said it holds a live link to fewer (a comet that died and has
// not left the registry yet).
func (l *Logic) pushFanout(ctx context.Context, route string, msg *jobrpc.PushMsg) (PushResult, error) {
	ctx, cancel := l.withPushTimeout(ctx)
	defer cancel()
	now := l.cfg.Now()
	linked, err := l.sendJob(ctx, now, route, msg)
	if err != nil {
		return PushResult{}, err
	}
	n := l.reg.cometCount(now)
	if linked >= 0 {
		n = min(n, linked)
	}
	return PushResult{Comets: n}, nil
}

// sendJob hands msg to the job live at now that routing key route hashes
// to. When the job cannot be reached (no link: rpc.ErrUnavailable,
// ErrConnLost, ErrClosed), it is marked down until it reports again and
// msg goes to the next live job in rendezvous order, at once: a job that
// dies costs its pushes no error. A push whose connection broke after it
// was written may have reached the dead job's queue too: a retried push is
// delivered at least once, possibly twice, never silently lost for want
// of a job. It returns the number of linked comets the job said the
// push goes to, -1 when the job does not say (see jobrpc.LinkedPusher).
func (l *Logic) sendJob(ctx context.Context, now time.Time, route string, msg *jobrpc.PushMsg) (int, error) {
	var lastErr error
	for range maxJobTries {
		j, ok := l.reg.pickJob(route, now)
		if !ok {
			break
		}
		svc, err := l.jobs.get(&j)
		if err != nil {
			return 0, err
		}
		linked := -1
		if lp, ok := svc.(jobrpc.LinkedPusher); ok {
			linked, err = lp.PushLinked(ctx, msg)
		} else {
			err = svc.Push(ctx, msg)
		}
		if err == nil {
			return linked, nil
		}
		err = fmt.Errorf("logic: push %s via job %s: %w", msg.Type, j.id, err)
		if !jobLinkError(err) || ctx.Err() != nil {
			return 0, err
		}
		l.reg.jobDown(&j, l.cfg.Now())
		l.log.Warn("logic: job unreachable; trying the next one", "job", j.id, "addr", j.info.RPCAddr, "err", err)
		lastErr = err
	}
	if lastErr != nil {
		return 0, lastErr
	}
	if err := l.nodes.err(); err != nil {
		return 0, fmt.Errorf("%w (node registry not refreshed: %w)", ErrNoJob, err)
	}
	return 0, ErrNoJob
}

// maxJobTries bounds the jobs one push tries before it fails.
const maxJobTries = 4

// jobLinkError reports whether err says a push found no working link to
// its job, so another job may take it.
func jobLinkError(err error) bool {
	return errors.Is(err, rpc.ErrUnavailable) || errors.Is(err, rpc.ErrConnLost) || errors.Is(err, rpc.ErrClosed)
}

func compareRoutes(a, b Route) int {
	if c := strings.Compare(a.Server, b.Server); c != 0 {
		return c
	}
	return strings.Compare(a.Key, b.Key)
}
