package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of RunConfig.
const (
	DefaultDrain         = 5 * time.Second
	DefaultProgressEvery = time.Second
)

// RunConfig configures Run.
type RunConfig struct {
	// HTTPAddr is the push API's host:port. Required.
	HTTPAddr string
	// Load says how fast and how long to push.
	Load LoadConfig
	// Window, when positive, holds each push back until at most Window
	// earlier pushes are not yet fully delivered: closed-loop flow
	// control for measuring the most a cluster delivers without
	// overflowing its queues. Zero means none (the offered load is
	// Load's alone).
	Window int
	// Drain is how long, after the last push, the wait for outstanding
	// deliveries may go without progress before the rest count as
	// missing. Zero means DefaultDrain.
	Drain time.Duration
	// RequestTimeout bounds one HTTP push. Zero means 10s.
	RequestTimeout time.Duration
	// Procs are server pids whose RSS and CPU are sampled at the start and
	// end of the run. Empty means none.
	Procs []int
	// Progress, when not nil, is called every ProgressEvery while pushes
	// go on and once more after the drain.
	Progress func(Progress)
	// ProgressEvery is the period of Progress. Zero means
	// DefaultProgressEvery.
	ProgressEvery time.Duration
}

// Progress is a run's state, for a live progress line.
type Progress struct {
	Elapsed  time.Duration // since the run began
	Conns    int           // connections open
	Lost     uint64        // connections lost so far
	Sent     uint64        // pushes started
	Failed   uint64        // pushes that failed
	Late     uint64        // open-loop pushes started late
	Expected uint64        // deliveries the answered pushes should make
	Received uint64        // deliveries counted
	P99      time.Duration // p99 latency over the last period
}

// run is the state of one Run.
type run struct {
	f        Receivers
	w        Workload
	cfg      RunConfig
	round    *Round
	load     *Load
	perPush  uint64
	stale    uint64        // Fleet.Stale when the run began
	expected atomic.Uint64 // deliveries the successful pushes should make
	short    atomic.Uint64 // keys/mids pushes that found fewer connections than asked
}

// Run pushes w's messages to the receivers f through the push API as cfg
// says, waits for the deliveries to drain, and returns what happened. The
// receivers must be connected with w's tokens (FleetConfig.Token =
// w.Token, Op = w.Op).
func Run(ctx context.Context, f Receivers, w Workload, cfg RunConfig) (Result, error) {
	w = w.withDefaults()
	if err := w.check(); err != nil {
		return Result{}, err
	}
	if cfg.Drain <= 0 {
		cfg.Drain = DefaultDrain
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = DefaultProgressEvery
	}
	rn := &run{f: f, w: w, cfg: cfg, load: NewLoad(cfg.Load), perPush: uint64(w.PerPush(f.Connected()))}
	before := sampleProcs(cfg.Procs)
	rn.stale = f.Stale()
	round, err := f.StartRound()
	if err != nil {
		return Result{}, err
	}
	rn.round = round
	stopProgress := rn.startProgress()
	send, closeConns := rn.sender()
	ls := rn.load.Run(ctx, send)
	closeConns()
	_, lastAt := rn.round.WaitReceived(ctx, rn.expected.Load(), cfg.Drain)
	stopProgress()
	if err := f.Collect(rn.round); err != nil {
		return Result{}, err
	}
	res := rn.result(ls, rn.round.Received(), lastAt)
	res.Procs = procResults(before, sampleProcs(cfg.Procs))
	return res, nil
}

// sender returns the SendFunc of the run (one PushConn and scratch
// buffers per caller) and a function that closes its connections.
func (rn *run) sender() (SendFunc, func()) {
	n := rn.load.Concurrency()
	conns := make([]*PushConn, n)
	paths := make([][]byte, n)
	bodies := make([][]byte, n)
	for i := range conns {
		conns[i] = NewPushConn(rn.cfg.HTTPAddr, rn.cfg.RequestTimeout)
	}
	pb := newPathBuilder(rn.w, rn.f.Connected())
	closeConns := func() {
		for _, pc := range conns {
			pc.Close()
		}
	}
	return func(c int, seq uint32) error {
		rn.waitWindow(seq)
		paths[c] = pb.append(paths[c][:0], seq)
		st := Stamp{Sent: time.Now().UnixNano(), Round: rn.round.ID, Seq: seq}
		bodies[c] = AppendStamp(bodies[c][:0], st, rn.w.Size)
		a, err := conns[c].Post(paths[c], bodies[c])
		if err != nil {
			return err
		}
		want := rn.perPush
		if a.Conns >= 0 && (rn.w.Kind == KindKeys || rn.w.Kind == KindMids) {
			if uint64(a.Conns) < want {
				rn.short.Add(1)
			}
			want = uint64(a.Conns)
		}
		rn.expected.Add(want)
		return nil
	}, closeConns
}

// waitWindow blocks push seq until at most Window earlier pushes are not
// fully delivered (no wait when Window is zero).
func (rn *run) waitWindow(seq uint32) {
	win := uint64(rn.cfg.Window)
	if win == 0 || uint64(seq) < win {
		return
	}
	for rn.round.Received()+win*rn.perPush < rn.expected.Load() {
		time.Sleep(50 * time.Microsecond)
	}
}

// startProgress calls cfg.Progress every period until the returned
// function is called, which reports once more and waits for the loop.
func (rn *run) startProgress() (stop func()) {
	if rn.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(rn.cfg.ProgressEvery)
		defer t.Stop()
		var prev, cur HistSnapshot
		for {
			select {
			case <-done:
				rn.report(&prev, &cur)
				return
			case <-t.C:
				rn.report(&prev, &cur)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// report calls cfg.Progress with the state now; prev holds the histogram
// at the previous call and is updated.
func (rn *run) report(prev, cur *HistSnapshot) {
	rn.round.Hist.SnapshotInto(cur)
	ls := rn.load.Stats()
	rn.cfg.Progress(Progress{
		Elapsed:  time.Since(rn.round.Start),
		Conns:    rn.f.Connected() - int(rn.f.Lost()),
		Lost:     rn.f.Lost(),
		Sent:     ls.Sent,
		Failed:   ls.Failed,
		Late:     ls.Late,
		Expected: rn.expected.Load(),
		Received: cur.N,
		P99:      cur.Sub(prev).Quantile(0.99),
	})
	*prev = *cur
}
