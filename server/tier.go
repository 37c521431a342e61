package server

import (
	"context"

	"github.com/goimx/goim/logic/logicrpc"
)

// shutdownTier shuts a comet or job node down gracefully, bounded by
// ctx: the tier (stop, its Shutdown), then its metrics server (nil: none);
// once both stopped cleanly it waits for the serve loops; last it closes
// the logic client the node dialed (nil: the tier calls logic in
// process). It returns the first error.
func shutdownTier(ctx context.Context, stop func(context.Context) error, m *metricsServer, l *loops, logic *logicrpc.Failover) error {
	err := stop(ctx)
	if e := m.shutdown(ctx); err == nil {
		err = e
	}
	if err == nil {
		l.wait()
	}
	closeLogic(logic)
	return err
}

// closeTier stops a comet or job node at once: the tier (stop, its
// Close), its metrics server, then waits for the serve loops and closes
// the logic client the node dialed. It returns the tier's error.
func closeTier(stop func() error, m *metricsServer, l *loops, logic *logicrpc.Failover) error {
	err := stop()
	m.close()
	l.wait()
	closeLogic(logic)
	return err
}

// closeLogic closes logic, the client a node dialed, unless it is nil.
func closeLogic(logic *logicrpc.Failover) {
	if logic != nil {
		logic.Close()
	}
}
