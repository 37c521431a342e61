package logic

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of the tick of pushDeadlines.
const (
	minDeadlineTick = time.Millisecond
	maxDeadlineTick = 100 * time.Millisecond
)

// pushDeadlines hands out contexts that end Config.PushTimeout after a
// push started, one context shared by every push that starts within the
// same tick (PushTimeout/50, 1 to 100 ms), so that a push does not make a
// context, a timer and a parent link of its own. A push so gets at least
// PushTimeout and at most PushTimeout plus one tick. The contexts carry no
// values and are cancelled only by their deadline (and by close).
type pushDeadlines struct {
	timeout time.Duration
	tick    time.Duration

	cur atomic.Pointer[sharedDeadline] // the context of the current tick

	mu     sync.Mutex // guards renewal and closed: one renewal per tick
	closed bool
}

// sharedDeadline is the context of one tick.
type sharedDeadline struct {
	ctx      context.Context
	cancel   context.CancelFunc
	deadline time.Time
	until    time.Time // pushes starting before it share ctx
}

func newPushDeadlines(timeout time.Duration) *pushDeadlines {
	return &pushDeadlines{timeout: timeout, tick: min(max(timeout/50, minDeadlineTick), maxDeadlineTick)}
}

// get returns the context for a push starting at now: it ends at least
// timeout after now.
func (d *pushDeadlines) get(now time.Time) context.Context {
	if s := d.cur.Load(); s != nil && now.Before(s.until) {
		return s.ctx
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if s := d.cur.Load(); s != nil && now.Before(s.until) {
		return s.ctx
	}
	if d.closed {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	s := &sharedDeadline{deadline: now.Add(d.timeout + d.tick), until: now.Add(d.tick)}
	// Every push of the tick shares ctx; its timer cancels it at the
	// deadline, or close does.
	s.ctx, s.cancel = context.WithDeadline(context.Background(), s.deadline)
	d.cur.Store(s)
	return s.ctx
}

// close cancels the current context; later ones are born cancelled.
// Contexts of earlier ticks end by their deadline.
func (d *pushDeadlines) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if s := d.cur.Load(); s != nil {
		s.cancel()
	}
}

// withPushTimeout returns ctx bounded by Config.PushTimeout. A ctx that
// already ends no later than a shared deadline context would (the HTTP
// handler passes one of those) is returned as is; any other gets a
// context.WithTimeout of its own.
func (l *Logic) withPushTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && !dl.After(time.Now().Add(l.deadlines.timeout+l.deadlines.tick)) {
		return ctx, noCancel
	}
	return context.WithTimeout(ctx, l.cfg.PushTimeout)
}

// noCancel is the cancel function of a context that needs none.
func noCancel() {}
