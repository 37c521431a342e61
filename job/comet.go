package job

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/rpc"
)

// dropLogEvery is the least time between two log lines about drops for one
// comet.
const dropLogEvery = 5 * time.Second

// dropReason says why messages were not delivered to a comet.
type dropReason uint8

// The drop reasons, one per Stats counter.
const (
	dropQueueFull dropReason = iota
	dropSendError
	dropNoComet
	dropCometGone
	dropShutdown
)

// String returns the reason as logged.
func (r dropReason) String() string {
	switch r {
	case dropQueueFull:
		return "queue full"
	case dropSendError:
		return "send error"
	case dropNoComet:
		return "no comet"
	case dropCometGone:
		return "comet gone"
	case dropShutdown:
		return "shutdown"
	}
	return "unknown"
}

// countDrop adds n dropped messages to the counter of reason.
func (c *counters) countDrop(reason dropReason, n uint64) {
	switch reason {
	case dropQueueFull:
		c.droppedFull.Add(n)
	case dropSendError:
		c.droppedSend.Add(n)
	case dropNoComet:
		c.droppedNoComet.Add(n)
	case dropCometGone:
		c.droppedGone.Add(n)
	case dropShutdown:
		c.droppedShutdown.Add(n)
	}
}

// cometWorker owns the queue of one comet and the goroutine (run) that
// drains it in order, calling the comet's one-way methods. A full queue
// drops the request (counted, logged at most once per dropLogEvery), so a
// slow or dead comet never holds up the others.
type cometWorker struct {
	j      *Job
	id     string
	addr   string
	svc    cometrpc.Service
	link   *rpc.Client // svc's RPC client; nil for a comet called in process
	queue  chan *payload
	ctx    context.Context // cancelled by stop; passed to the comet calls
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	// mu guards closed. enqueue holds it for reading while it queues, so
	// once stop has set closed nothing can be queued behind its drain.
	mu     sync.RWMutex
	closed bool

	backlog   atomic.Int64  // payloads queued or being delivered
	delivered atomic.Uint64 // requests the comet took without error
	dropped   atomic.Uint64 // messages dropped for this comet
	dropLog   logLimiter

	// Pushes the comet reported failed after they were counted delivered
	// (pushFailed), not yet taken off the delivered counters; only run
	// (or stop, once run ended) takes them off, so that a report can never
	// overtake the count of its own request. failed wakes run for it.
	failedReqs, failedMsgs atomic.Uint64
	failed                 chan struct{} // capacity 1

	// Requests reused by run, so a call does not allocate one; only run
	// touches them.
	keysReq cometrpc.PushKeysReq
	roomReq cometrpc.BroadcastRoomReq
	allReq  cometrpc.BroadcastReq
}

// newCometWorker starts the worker of comet id at addr.
func (j *Job) newCometWorker(id, addr string) *cometWorker {
	w := &cometWorker{
		j:      j,
		id:     id,
		addr:   addr,
		svc:    j.dialComet(addr),
		queue:  make(chan *payload, j.cfg.CometQueueSize),
		done:   make(chan struct{}),
		failed: make(chan struct{}, 1),
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	if r, ok := w.svc.(interface{ RPC() *rpc.Client }); ok {
		w.link = r.RPC()
		go w.link.Connect(w.ctx) //nolint:errcheck // dial now, so the link state is known before the first push
	}
	if r, ok := w.svc.(cometrpc.PushErrorReporter); ok {
		r.OnPushError(w.pushFailed)
	}
	go w.run()
	return w
}

// pushFailed counts the msgs messages of a request the comet reported,
// after it was handed over, that it failed to handle (pushes over the RPC
// are one-way) as send errors, and has run take the request off the
// delivered counters: the same counts as deliver makes for a request that
// fails at once. It runs on the RPC client's read goroutine.
func (w *cometWorker) pushFailed(msgs uint64, err error) {
	w.failedMsgs.Add(msgs)
	w.failedReqs.Add(1)
	w.drop(msgs, dropSendError, err)
	select {
	case w.failed <- struct{}{}:
	default:
	}
}

// takeFailures takes the pushes reported failed off the delivered
// counters. Only run calls it, or stop once run ended: every request
// reported failed was then counted delivered already.
func (w *cometWorker) takeFailures() {
	reqs, msgs := w.failedReqs.Swap(0), w.failedMsgs.Swap(0)
	w.delivered.Add(-reqs)
	w.j.stats.delivered.Add(-reqs)
	w.j.stats.deliveredMsgs.Add(-msgs)
}

// linked returns nil when the job has a live link to the comet, waiting,
// bounded by ctx, for a dial in progress; else an error wrapping
// jobrpc.ErrCometUnreachable. A comet called in process is always linked.
func (w *cometWorker) linked(ctx context.Context) error {
	if w.link == nil {
		return nil
	}
	if err := w.link.Connect(ctx); err != nil {
		return fmt.Errorf("%w: %q at %s: %w", jobrpc.ErrCometUnreachable, w.id, w.addr, err)
	}
	return nil
}

// enqueue queues p for the comet without blocking. On failure it counts
// the drop and the caller keeps its reference to p.
func (w *cometWorker) enqueue(p *payload) bool {
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		w.drop(p.msgs, w.j.goneReason(), nil)
		return false
	}
	w.backlog.Add(1)
	select {
	case w.queue <- p:
		w.mu.RUnlock()
		return true
	default:
		w.backlog.Add(-1)
		w.mu.RUnlock()
		w.drop(p.msgs, dropQueueFull, nil)
		return false
	}
}

// run delivers the queued requests in order until stop.
//
// A push by key that arrives alone yields the processor once before it is
// delivered: pushes that the job's RPC workers are about to queue (callers
// push concurrently, and their calls arrive together) join the queue
// meanwhile, and their frames to the comet go out in one write instead of
// one write each. On an idle job the yield returns at once. Room and
// broadcast payloads are not held: they are batched already.
func (w *cometWorker) run() {
	defer close(w.done)
	for {
		select {
		case p := <-w.queue:
			if p.kind == jobrpc.PushKeys && len(w.queue) == 0 {
				runtime.Gosched()
			}
			w.deliver(p)
		case <-w.failed:
			w.takeFailures()
		case <-w.ctx.Done():
			return
		}
	}
}

// deliver hands p to the comet and releases it.
func (w *cometWorker) deliver(p *payload) {
	var err error
	switch p.kind {
	case jobrpc.PushRoom:
		w.roomReq = cometrpc.BroadcastRoomReq{RoomID: p.roomID, Batch: p.buf, Stamp: p.stamp}
		err = w.svc.BroadcastRoom(w.ctx, &w.roomReq)
		w.roomReq = cometrpc.BroadcastRoomReq{}
	case jobrpc.PushKeys:
		w.keysReq = cometrpc.PushKeysReq{Op: p.op, Keys: p.keys, Body: p.buf, Stamp: p.stamp}
		err = w.svc.PushKeys(w.ctx, &w.keysReq)
		w.keysReq = cometrpc.PushKeysReq{}
	case jobrpc.PushAll:
		w.allReq = cometrpc.BroadcastReq{Op: p.op, Speed: p.speed, Body: p.buf, Stamp: p.stamp}
		err = w.svc.Broadcast(w.ctx, &w.allReq)
		w.allReq = cometrpc.BroadcastReq{}
	}
	switch {
	case err == nil:
		w.delivered.Add(1)
		w.j.stats.delivered.Add(1)
		w.j.stats.deliveredMsgs.Add(p.msgs)
	case w.ctx.Err() != nil:
		w.drop(p.msgs, w.j.goneReason(), err)
	default:
		w.drop(p.msgs, dropSendError, err)
	}
	w.j.release(p)
	w.backlog.Add(-1)
}

// drop counts n messages dropped for reason and logs, at most once per
// dropLogEvery, how many were dropped since the last line.
func (w *cometWorker) drop(n uint64, reason dropReason, err error) {
	w.j.stats.countDrop(reason, n)
	w.dropped.Add(n)
	if count, ok := w.dropLog.allow(n); ok {
		w.j.logger.Warn("job: messages dropped for comet", "comet", w.id, "addr", w.addr,
			"reason", reason.String(), "count", count, "err", err)
	}
}

// logLimiter lets a caller log a recurring event at most once per
// dropLogEvery, with the number of events since the last line.
type logLimiter struct {
	unlogged atomic.Uint64 // events since the last line
	last     atomic.Int64  // unix nanoseconds of the last line
}

// allow records n events and reports whether to log now, with the count
// to log.
func (l *logLimiter) allow(n uint64) (uint64, bool) {
	l.unlogged.Add(n)
	now := time.Now().UnixNano()
	last := l.last.Load()
	if now-last < int64(dropLogEvery) || !l.last.CompareAndSwap(last, now) {
		return 0, false
	}
	return l.unlogged.Swap(0), true
}

// stop ends the worker: nothing more is queued, the request in progress is
// cancelled, what is still queued is dropped and counted, and the comet's
// client is closed. It may be called once.
func (w *cometWorker) stop() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	<-w.done
	reason := w.j.goneReason()
	for {
		select {
		case p := <-w.queue:
			w.drop(p.msgs, reason, nil)
			w.j.release(p)
			w.backlog.Add(-1)
		default:
			if c, ok := w.svc.(interface{ Close() error }); ok {
				_ = c.Close()
			}
			w.takeFailures() // those reported before the client closed
			return
		}
	}
}

// stats returns the worker's counters.
func (w *cometWorker) stats() CometStats {
	return CometStats{
		ID:        w.id,
		Addr:      w.addr,
		Queued:    len(w.queue),
		Delivered: w.delivered.Load(),
		Dropped:   w.dropped.Load(),
		Connected: linkUp(w.svc),
	}
}

// goneReason is the drop reason for requests to a stopped worker.
func (j *Job) goneReason() dropReason {
	if j.closing.Load() {
		return dropShutdown
	}
	return dropCometGone
}

// fanout queues p to every comet of list. The caller holds one reference
// to p, which it releases after; each successful enqueue adds one that the
// comet's worker releases.
func (j *Job) fanout(p *payload, list []*cometWorker) {
	p.refs.Store(int32(len(list)) + 1)
	if len(list) == 0 {
		j.stats.countDrop(dropNoComet, p.msgs)
		if count, ok := j.noCometLog.allow(p.msgs); ok {
			j.logger.Warn("job: messages dropped, no comet known", "count", count)
		}
		return
	}
	for _, w := range list {
		if !w.enqueue(p) {
			j.release(p)
		}
	}
}

// release drops one reference to p. The last one returns p to the pool and
// tells p's room its batch is done.
func (j *Job) release(p *payload) {
	if p.refs.Add(-1) != 0 {
		return
	}
	r := p.room
	j.pool.put(p)
	if r != nil {
		r.done()
	}
}
