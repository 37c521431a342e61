package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of LoadConfig.
const (
	DefaultConcurrency = 16
	// DefaultLateBound is how far behind its schedule an open-loop send
	// may start before it counts as late.
	DefaultLateBound = 5 * time.Millisecond
)

// LoadConfig says how a Load sends.
type LoadConfig struct {
	// Rate is the offered rate in sends per second, open loop: send i is
	// due at start + i/Rate whatever became of the earlier ones, and a
	// send that starts more than LateBound after it was due counts as
	// late (so slow answers never lower the offered rate silently). Zero
	// means closed loop: each caller sends again as soon as it is
	// answered.
	Rate float64
	// Duration stops scheduling sends after this long. Zero means no
	// limit in time (Count or the context must end it).
	Duration time.Duration
	// Count stops after this many sends. Zero means no limit in count.
	Count int
	// Concurrency is the number of callers. Zero means DefaultConcurrency.
	Concurrency int
	// LateBound is the lateness that makes an open-loop send late. Zero
	// means DefaultLateBound.
	LateBound time.Duration
}

// SendFunc performs send number seq (0, 1, ...) on caller w
// (0 <= w < Concurrency); a non-nil error counts the send as failed.
type SendFunc func(w int, seq uint32) error

// LoadStats are a Load's counters.
type LoadStats struct {
	Sent     uint64        // sends started
	Failed   uint64        // sends that returned an error
	Late     uint64        // open-loop sends started more than LateBound late
	MaxLate  time.Duration // the largest lateness of an open-loop send
	Elapsed  time.Duration // from the first send to the last answer
	FirstErr error         // the first error, nil when none
}

// OK returns the sends that succeeded.
func (s LoadStats) OK() uint64 { return s.Sent - s.Failed }

// Load sends at a rate or a concurrency and counts what happened; its
// counters may be read while Run runs (for a progress line).
type Load struct {
	cfg     LoadConfig
	next    atomic.Uint64 // index of the next send
	sent    atomic.Uint64
	failed  atomic.Uint64
	late    atomic.Uint64
	maxLate atomic.Int64

	errMu    sync.Mutex // guards firstErr
	firstErr error
}

// NewLoad returns a Load for cfg.
func NewLoad(cfg LoadConfig) *Load {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.LateBound <= 0 {
		cfg.LateBound = DefaultLateBound
	}
	return &Load{cfg: cfg}
}

// Concurrency returns the number of callers.
func (l *Load) Concurrency() int { return l.cfg.Concurrency }

// Run sends with fn until Count sends were made, Duration passed or ctx
// ended, and returns the counters once every caller returned.
func (l *Load) Run(ctx context.Context, fn SendFunc) LoadStats {
	start := time.Now()
	var wg sync.WaitGroup
	for w := range l.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.caller(ctx, start, w, fn)
		}()
	}
	wg.Wait()
	st := l.Stats()
	st.Elapsed = time.Since(start)
	return st
}

// caller is one of the Concurrency callers.
func (l *Load) caller(ctx context.Context, start time.Time, w int, fn SendFunc) {
	var end time.Time
	if l.cfg.Duration > 0 {
		end = start.Add(l.cfg.Duration)
	}
	for ctx.Err() == nil {
		i := l.next.Add(1) - 1
		if l.cfg.Count > 0 && i >= uint64(l.cfg.Count) {
			return
		}
		if l.cfg.Rate > 0 {
			due := start.Add(time.Duration(float64(i) / l.cfg.Rate * float64(time.Second)))
			if !end.IsZero() && !due.Before(end) {
				return
			}
			if !l.waitUntil(ctx, due) {
				return
			}
		} else if !end.IsZero() && !time.Now().Before(end) {
			return
		}
		l.sent.Add(1)
		if err := fn(w, uint32(i)); err != nil {
			l.fail(err)
		}
	}
}

// waitUntil sleeps until due and counts the send late when it is more
// than LateBound behind; it reports false when ctx ended first.
func (l *Load) waitUntil(ctx context.Context, due time.Time) bool {
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
	lateness := time.Since(due)
	if lateness > l.cfg.LateBound {
		l.late.Add(1)
	}
	for {
		m := l.maxLate.Load()
		if int64(lateness) <= m || l.maxLate.CompareAndSwap(m, int64(lateness)) {
			return true
		}
	}
}

// fail counts a failed send and keeps the first error.
func (l *Load) fail(err error) {
	l.failed.Add(1)
	l.errMu.Lock()
	if l.firstErr == nil {
		l.firstErr = err
	}
	l.errMu.Unlock()
}

// Stats returns the counters so far (Elapsed is set by Run only).
func (l *Load) Stats() LoadStats {
	l.errMu.Lock()
	err := l.firstErr
	l.errMu.Unlock()
	return LoadStats{
		Sent:     l.sent.Load(),
		Failed:   l.failed.Load(),
		Late:     l.late.Load(),
		MaxLate:  time.Duration(max(l.maxLate.Load(), 0)),
		FirstErr: err,
	}
}
