package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Tier is one running tier of a binary, as a Group drives it.
type Tier interface {
	// Name is the tier's name in logs and /debug/stats: "comet", "logic"
	// or "job".
	Name() string
	// Shutdown stops the tier gracefully, bounded by ctx.
	Shutdown(ctx context.Context) error
	// Close stops the tier at once; it is called when Shutdown failed or
	// when a later tier failed to start.
	Close() error
	// Stats returns the tier's counters for /debug/stats; nil: none.
	Stats() any
	// StatsAttrs returns the attributes of the tier's periodic stats log
	// line; nil: no line.
	StatsAttrs() []any
}

// Group is the set of tiers one binary runs: it collects the serve
// loops' failures, logs stats periodically, and stops the tiers in the
// reverse order of Add within one deadline.
type Group struct {
	name string
	log  *slog.Logger
	errc chan error     // the first unexpected serve failure (buffered, 1)
	wg   sync.WaitGroup // the serve loops started by Go

	// mu guards tiers.
	mu    sync.Mutex
	tiers []Tier // in start order
}

func newGroup(name string, logger *slog.Logger) *Group {
	return &Group{name: name, log: logger, errc: make(chan error, 1)}
}

// Logger returns the binary's logger.
func (g *Group) Logger() *slog.Logger { return g.log }

// Add adds a started tier; it will be stopped before the tiers added
// before it.
func (g *Group) Add(t Tier) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tiers = append(g.tiers, t)
}

// Tiers returns the tiers in start order.
func (g *Group) Tiers() []Tier {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.tiers)
}

// Go runs serve on a goroutine. When it returns an error that is not one
// of closed (the "server closed" errors of a normal stop), the error is
// logged and the binary stops with ExitFailure.
func (g *Group) Go(what string, serve func() error, closed ...error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		err := serve()
		for _, c := range closed {
			if errors.Is(err, c) {
				return
			}
		}
		if err == nil {
			err = errors.New("stopped serving")
		}
		select {
		case g.errc <- fmt.Errorf("%s: %w", what, err):
		default:
		}
	}()
}

// errTierStopped ends the watch of a tier that stopped normally.
var errTierStopped = errors.New("cli: tier stopped")

// watch makes a failure received on errc (a running tier's Err channel)
// stop the binary with ExitFailure; the channel's closing after the
// tier's stop ends the watch.
func (g *Group) watch(name string, errc <-chan error) {
	g.Go(name, func() error {
		if err, ok := <-errc; ok {
			return err
		}
		return errTierStopped
	}, errTierStopped)
}

// Reloader is a Tier that can reload its configuration files on SIGHUP.
type Reloader interface {
	// Reload reads the tier's reloadable files again; on error the tier
	// keeps what it had.
	Reload() error
}

// wait blocks until ctx ends (ExitOK) or a serve loop fails
// (ExitFailure), logging stats every interval (0: never) and reloading
// the tiers on each receive from reload.
func (g *Group) wait(ctx context.Context, interval time.Duration, reload <-chan struct{}) int {
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			g.log.Info(g.name+": shutting down", "cause", context.Cause(ctx).Error())
			return ExitOK
		case err := <-g.errc:
			g.log.Error(g.name+": shutting down after a failure", "err", err)
			return ExitFailure
		case <-tick:
			g.logStats()
		case <-reload:
			g.reload()
		}
	}
}

// reload calls Reload on every tier that has it, logging the outcome.
func (g *Group) reload() {
	n := 0
	for _, t := range g.Tiers() {
		r, ok := t.(Reloader)
		if !ok {
			continue
		}
		n++
		if err := r.Reload(); err != nil {
			g.log.Error(t.Name()+": SIGHUP reload failed, keeping the files loaded before", "err", err)
			continue
		}
		g.log.Info(t.Name() + ": SIGHUP reload done")
	}
	if n == 0 {
		g.log.Info(g.name + ": SIGHUP received, nothing to reload")
	}
}

// logStats logs one stats line per tier that has one.
func (g *Group) logStats() {
	for _, t := range g.Tiers() {
		if attrs := t.StatsAttrs(); attrs != nil {
			g.log.Info(t.Name()+": stats", attrs...)
		}
	}
}

// shutdown stops the tiers in reverse start order, all within timeout; a
// tier whose graceful stop fails or runs out of time is closed. It waits
// for the serve loops.
func (g *Group) shutdown(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tiers := g.Tiers()
	for i := len(tiers) - 1; i >= 0; i-- {
		t := tiers[i]
		began := time.Now()
		if err := t.Shutdown(ctx); err != nil {
			g.log.Warn(t.Name()+": graceful stop incomplete; closing", "err", err)
			if cerr := t.Close(); cerr != nil {
				g.log.Warn(t.Name()+": close", "err", cerr)
			}
		}
		g.log.Info(t.Name()+": stopped", "took", time.Since(began).Round(time.Millisecond))
	}
	g.wg.Wait()
}

// close closes every tier at once, in reverse start order, and waits for
// the serve loops (after a failed start).
func (g *Group) close() {
	tiers := g.Tiers()
	for i := len(tiers) - 1; i >= 0; i-- {
		if err := tiers[i].Close(); err != nil {
			g.log.Warn(tiers[i].Name()+": close", "err", err)
		}
	}
	g.wg.Wait()
}
