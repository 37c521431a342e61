package comet

import (
	"context"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
)

// drainTick is the period of a drain's close batches: each tick closes
// the share of the connections that falls in it.
const drainTick = 100 * time.Millisecond

// Drain implements cometrpc.Drainer: it starts draining the comet and
// returns at once. The comet reports itself offline to logic (before
// Drain returns, so /goim/nodes/weighted stops listing it; a failed
// report is logged and retried by the report loop), then closes every
// authenticated connection with CloseDrain, spread evenly over
// req.Duration (Config.DrainDuration when zero or less), WebSocket
// clients with a 1001 close frame, so that clients reconnect to other
// comets without a storm. Connections that arrive during the drain are
// closed when it ends. The comet keeps serving pushes to the connections
// still open. A drain runs once: a later call starts nothing and answers
// Already. Shutdown or Close stops a drain in progress.
func (cm *Comet) Drain(ctx context.Context, req *cometrpc.DrainReq) (cometrpc.DrainReply, error) {
	d := req.Duration
	if d <= 0 {
		d = cm.cfg.DrainDuration
	}
	if !cm.draining.CompareAndSwap(false, true) {
		return cometrpc.DrainReply{Conns: int32(cm.connCount()), Duration: d, Already: true}, nil
	}
	cm.offline.Store(true)
	if cm.cfg.ReportInterval > 0 {
		if err := cm.report(ctx); err != nil {
			cm.logger.Warn("comet: drain: offline report failed; the report loop retries", "err", err)
		}
	}
	conns := cm.authedConns()
	cm.logger.Info("comet: draining", "conns", len(conns), "duration", d)
	if !cm.goBackground(func() { cm.drain(conns, d) }) {
		return cometrpc.DrainReply{}, ErrServerClosed
	}
	return cometrpc.DrainReply{Conns: int32(len(conns)), Duration: d}, nil
}

// connCount returns the number of authenticated connections.
func (cm *Comet) connCount() int {
	return int(cm.tcpConns.Load() + cm.wsConns.Load())
}

// authedConns returns every authenticated connection.
func (cm *Comet) authedConns() []*conn {
	var all []*conn
	for _, b := range cm.buckets {
		authed, _ := b.snapshot()
		all = append(all, authed...)
	}
	return all
}

// drain closes conns paced over d, then the connections that arrived
// meanwhile, unless the comet stops first.
func (cm *Comet) drain(conns []*conn, d time.Duration) {
	steps := max(int(d/drainTick), 1)
	t := time.NewTicker(d / time.Duration(steps))
	defer t.Stop()
	closed := 0
	for i := 1; i <= steps; i++ {
		select {
		case <-t.C:
		case <-cm.done:
			return
		}
		upto := len(conns) * i / steps
		cm.closeDrained(conns[closed:upto])
		closed = upto
	}
	late := cm.closeDrained(cm.authedConns())
	cm.logger.Info("comet: drained", "conns", len(conns), "late", late)
}

// closeDrained closes conns with CloseDrain, WebSocket clients with a
// close frame whose writes share one deadline, and returns how many were
// not closing yet.
func (cm *Comet) closeDrained(conns []*conn) int {
	deadline := time.Now().Add(closeFrameTimeout)
	n := 0
	for _, c := range conns {
		if c.closeReason() == CloseNone {
			n++
		}
		c.closeWithFrame(CloseDrain, deadline)
	}
	return n
}
