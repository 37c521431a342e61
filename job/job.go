// Package job is the job tier: it takes pushes from logic, batches room
// messages per room, encodes each batch once and fans it out to every
// comet through per-comet worker queues. It learns the comets from logic's
// registry and reports itself there so logic can find it.
//
// A Job implements jobrpc.Service in process and serves it over the RPC
// (Serve). Push returns once the message is queued, not delivered: what
// cannot be delivered later (a comet's full queue, a failed send, no comet)
// is counted in Stats and logged at a bounded rate.
package job

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/metrics"
	"github.com/goimx/goim/rpc"
)

// ErrServerClosed is returned by Serve after Shutdown or Close, and by
// pushes once Shutdown or Close began. It is the contract's
// jobrpc.ErrServerClosed. Push's other errors are jobrpc.ErrBadPush and
// jobrpc.ErrUnknownComet; callers match all three over the RPC too.
var ErrServerClosed = jobrpc.ErrServerClosed

// ErrNoLogic is returned by New without a logic service (Config.Logic).
var ErrNoLogic = errors.New("job: no logic service")

// Job is one job node. Its methods are safe for concurrent use.
type Job struct {
	cfg      Config
	logger   *slog.Logger
	hostname string
	batchOff bool
	logic    logicrpc.Service
	srv      *rpc.Server

	pool   payloadPool
	rooms  roomSet
	comets atomic.Pointer[cometList] // never nil
	stats  counters
	// batchSizes counts the messages of each room batch (Stats.BatchSizes).
	batchSizes *metrics.Histogram

	closing    atomic.Bool
	ctx        context.Context // cancelled when the background loops must end
	cancel     context.CancelFunc
	wg         sync.WaitGroup // the background loops
	stopOnce   sync.Once
	reportNow  chan struct{} // asks logicLoop for a report now
	logicLog   logLimiter    // failed calls to logic
	noCometLog logLimiter    // messages with no comet to go to

	// refreshMu guards lastRefresh and cometsStopped, and serializes
	// changes of the comet list.
	refreshMu     sync.Mutex
	lastRefresh   time.Time
	cometsStopped bool

	addrMu    sync.Mutex // guards advertise
	advertise string     // address reported to logic, "" while unknown

	// reportMu serializes the reports to logic and guards offline, so
	// that no report sent after Shutdown's offline one says online.
	reportMu sync.Mutex
	offline  bool
}

// New returns a running Job: it fetches the comet list and starts its
// background loops at once. Serve it with Serve, or call Push in process.
// A nil logger means slog.Default(). It returns ErrNoLogic without
// Config.Logic, and an error wrapping ErrConfig for a field out of range.
func New(cfg Config, logger *slog.Logger) (*Job, error) {
	if cfg.Logic == nil {
		return nil, ErrNoLogic
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	j := &Job{
		cfg:        cfg,
		logger:     logger,
		batchOff:   cfg.batchingOff(),
		logic:      cfg.Logic,
		advertise:  cfg.AdvertiseAddr,
		reportNow:  make(chan struct{}, 1),
		batchSizes: metrics.NewHistogram(batchSizeBounds()),
	}
	j.hostname, _ = os.Hostname()
	j.rooms.init()
	j.comets.Store(emptyComets())
	j.srv = rpc.NewServer(cfg.Server, logger)
	jobrpc.Register(j.srv, j)
	j.ctx, j.cancel = context.WithCancel(context.Background())
	j.wg.Add(2)
	go j.logicLoop()
	go j.sweepLoop()
	return j, nil
}

// Config returns the configuration in effect, defaults applied.
func (j *Job) Config() Config { return j.cfg }

// dialComet returns the service of the comet at addr.
func (j *Job) dialComet(addr string) cometrpc.Service {
	if j.cfg.DialComet != nil {
		return j.cfg.DialComet(addr)
	}
	return cometrpc.NewClient(addr, j.cfg.Client, j.logger)
}

// Serve serves the job RPC (jobrpc) on ln until Shutdown or Close, after
// which it returns ErrServerClosed. The first listener's
// address is the advertised one unless Config.AdvertiseAddr is set.
func (j *Job) Serve(ln net.Listener) error {
	j.setListenAddr(ln.Addr())
	err := j.srv.Serve(ln)
	if errors.Is(err, rpc.ErrServerClosed) {
		return ErrServerClosed
	}
	return err
}

// Push implements jobrpc.Service: it queues msg for delivery and returns
// without waiting for it. It fails with ErrServerClosed once the job is shutting
// down, jobrpc.ErrBadPush for a malformed push, jobrpc.ErrUnknownComet for keys on a
// comet not in logic's registry (the list is fetched again first, at most
// every 100ms) and jobrpc.ErrCometUnreachable for keys on a comet the job
// has no live link to. msg is not used after Push returns.
func (j *Job) Push(ctx context.Context, msg *jobrpc.PushMsg) error {
	_, err := j.PushLinked(ctx, msg)
	return err
}

// PushLinked implements jobrpc.LinkedPusher: Push, also returning how many
// comets with a live link the push goes to: 1 for keys, the linked comets
// of the job's list for a room push or a broadcast.
func (j *Job) PushLinked(ctx context.Context, msg *jobrpc.PushMsg) (int, error) {
	if j.closing.Load() {
		j.stats.rejectedClosed.Add(1)
		return 0, ErrServerClosed
	}
	switch msg.Type {
	case jobrpc.PushRoom:
		j.ensureComets(ctx)
		return j.linkedComets(), j.pushRoom(msg)
	case jobrpc.PushKeys:
		return 1, j.pushKeys(ctx, msg)
	case jobrpc.PushAll:
		j.ensureComets(ctx)
		j.pushAll(msg)
		return j.linkedComets(), nil
	}
	j.stats.rejectedBad.Add(1)
	return 0, fmt.Errorf("%w: type %v", jobrpc.ErrBadPush, msg.Type)
}

// linkedComets counts the comets of the list the job has a live link to
// (a comet called in process always counts).
func (j *Job) linkedComets() int {
	n := 0
	for _, w := range j.comets.Load().list {
		if w.link == nil || w.link.Connected() {
			n++
		}
	}
	return n
}

// ReportNow asks for a report to logic at once, without waiting for the
// next ReportInterval: for example when the link to logic came back, so
// that a restarted logic can route pushes here without delay. It does not
// block.
func (j *Job) ReportNow() {
	select {
	case j.reportNow <- struct{}{}:
	default:
	}
}

// ensureComets fetches the comet list first when the job knows no comet
// (it just started, maybe restarted under an id logic still routes to), so
// a room or broadcast push accepted then is not dropped for want of a
// list that logic already has. Fetches are at most every 100ms.
func (j *Job) ensureComets(ctx context.Context) {
	if len(j.comets.Load().list) == 0 {
		j.refreshIfStale(ctx)
	}
}

// pushKeys queues a push to keys for the comet that holds them.
func (j *Job) pushKeys(ctx context.Context, m *jobrpc.PushMsg) error {
	if m.Keys.Len() == 0 {
		j.stats.rejectedBad.Add(1)
		return fmt.Errorf("%w: keys push without keys", jobrpc.ErrBadPush)
	}
	w := j.comets.Load().byID[m.Server]
	if w == nil {
		j.refreshIfStale(ctx)
		if w = j.comets.Load().byID[m.Server]; w == nil {
			j.stats.rejectedUnknown.Add(1)
			return fmt.Errorf("%w: %q", jobrpc.ErrUnknownComet, m.Server)
		}
	}
	if err := w.linked(ctx); err != nil {
		j.stats.rejectedUnreachable.Add(1)
		return err
	}
	p := j.pool.get()
	p.kind, p.op, p.msgs, p.stamp = jobrpc.PushKeys, m.Op, 1, m.Stamp
	p.keys = append(p.keys, m.Keys...) // a copy: m.Keys may alias the RPC request
	p.buf = append(p.buf, m.Msg...)
	p.refs.Store(1)
	j.stats.pushKeys.Add(1)
	if !w.enqueue(p) {
		j.release(p)
	}
	return nil
}

// pushAll queues a broadcast to every comet, the speed split among them.
func (j *Job) pushAll(m *jobrpc.PushMsg) {
	p := j.pool.get()
	p.kind, p.op, p.msgs, p.stamp = jobrpc.PushAll, m.Op, 1, m.Stamp
	p.buf = append(p.buf, m.Msg...)
	list := j.comets.Load().list
	p.speed = splitSpeed(m.Speed, len(list))
	j.stats.pushAll.Add(1)
	j.fanout(p, list)
	j.release(p)
}

// splitSpeed returns each of n comets' share of a broadcast pace: speed
// divided by n, rounded up; 0 (or less) stays 0, unpaced.
func splitSpeed(speed int32, n int) int32 {
	if speed <= 0 || n <= 1 {
		return max(speed, 0)
	}
	return int32((int64(speed) + int64(n) - 1) / int64(n))
}

// Shutdown stops the job gracefully: it reports itself offline to logic,
// refuses new pushes, lets the RPC calls in progress finish, flushes every
// room's pending batch and waits for the comet queues to drain, then stops.
// When ctx ends first, what is still queued is dropped (counted in
// DroppedShutdown) and Shutdown returns ctx.Err().
func (j *Job) Shutdown(ctx context.Context) error {
	j.report(ctx, true)
	j.closing.Store(true)
	err := j.srv.Shutdown(ctx)
	j.rooms.close()
	if werr := j.waitIdle(ctx); err == nil {
		err = werr
	}
	j.stop()
	return err
}

// waitIdle waits until no comet has work queued, or ctx ends.
func (j *Job) waitIdle(ctx context.Context) error {
	delay := time.Millisecond
	for !j.cometsIdle() {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
	return nil
}

// Close stops the job at once: pushes are refused, the RPC server closes,
// and pending and queued messages are dropped (counted in DroppedShutdown).
func (j *Job) Close() error {
	j.closing.Store(true)
	err := j.srv.Close()
	j.rooms.close()
	j.stop()
	return err
}

// stop ends the background loops and the comet workers. It runs once.
func (j *Job) stop() {
	j.stopOnce.Do(func() {
		j.cancel()
		j.wg.Wait()
		j.stopComets()
	})
}
