package comet

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of the tick of logicDeadlines.
const (
	minLogicTick = time.Millisecond
	maxLogicTick = 100 * time.Millisecond
)

// logicDeadlines hands out the contexts of the logic calls a connection
// makes (auth, session renewal, receive, history, disconnect): each ends
// at least Config.LogicTimeout and at most that plus one tick
// (LogicTimeout/50, 1 to 100 ms) after the call started, and every one
// ends when the comet's context is cancelled. Calls that start within the
// same tick share one context, so that a handshake does not make a
// context, a timer and a channel of its own: short-lived garbage that
// would sit in the same heap pages as the connection's long-lived objects.
type logicDeadlines struct {
	parent  context.Context
	timeout time.Duration
	tick    time.Duration

	cur atomic.Pointer[tickDeadline] // the context of the current tick

	mu sync.Mutex // serializes renewals of cur: one per tick
}

// tickDeadline is the context of one tick.
type tickDeadline struct {
	ctx    context.Context
	cancel context.CancelFunc // run by its deadline or the parent's end; kept for vet
	until  time.Time          // calls starting before it share ctx
}

// newLogicDeadlines returns the deadlines of calls bounded by timeout,
// all ending with parent.
func newLogicDeadlines(parent context.Context, timeout time.Duration) *logicDeadlines {
	return &logicDeadlines{
		parent:  parent,
		timeout: timeout,
		tick:    min(max(timeout/50, minLogicTick), maxLogicTick),
	}
}

// get returns the context of a logic call starting now.
func (d *logicDeadlines) get() context.Context {
	now := time.Now()
	if s := d.cur.Load(); s != nil && now.Before(s.until) {
		return s.ctx
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if s := d.cur.Load(); s != nil && now.Before(s.until) {
		return s.ctx
	}
	s := &tickDeadline{until: now.Add(d.tick)}
	s.ctx, s.cancel = context.WithDeadline(d.parent, now.Add(d.timeout+d.tick))
	d.cur.Store(s)
	return s.ctx
}
