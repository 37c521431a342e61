package cli

import (
	"context"
	"log/slog"
	"os"

	"github.com/goimx/goim/comet/cometrpc"
)

// drainer is a tier that can be drained: the comet.
type drainer interface {
	drain(ctx context.Context, log *slog.Logger)
}

// drain implements drainer: it starts draining the comet over its
// -drain-duration and logs what it started.
func (t *CometTier) drain(ctx context.Context, log *slog.Logger) {
	rep, err := t.Comet().Drain(ctx, &cometrpc.DrainReq{})
	switch {
	case err != nil:
		log.Warn("comet: drain failed", "err", err)
	case rep.Already:
		log.Info("comet: drain already in progress", "conns", rep.Conns)
	default:
		log.Info("comet: drain started by signal", "conns", rep.Conns, "duration", rep.Duration)
	}
}

// watchDrain drains every drainable tier of g each time sigs receives
// (SIGUSR1, see notifyDrain), until ctx ends or the returned stop is
// called. A nil sigs watches nothing.
func watchDrain(ctx context.Context, g *Group, sigs <-chan os.Signal) (stop func()) {
	if sigs == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-sigs:
				g.log.Info(g.name+": draining", "signal", s.String())
				for _, t := range g.Tiers() {
					if d, ok := t.(drainer); ok {
						d.drain(ctx, g.log)
					}
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
