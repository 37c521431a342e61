package job

import (
	"context"
	"net"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
)

// Timeouts of the job's calls to logic, and the least time between two
// comet list fetches triggered by pushes to an unknown comet.
const (
	logicTimeout  = 3 * time.Second
	minRefreshGap = 100 * time.Millisecond
)

// cometList is an immutable snapshot of the comets the job fans out to.
type cometList struct {
	list []*cometWorker
	byID map[string]*cometWorker
}

// emptyComets is the list before the first fetch and after close.
func emptyComets() *cometList { return &cometList{byID: map[string]*cometWorker{}} }

// refreshComets fetches the comet list from logic and applies it. On error
// the current list stays.
func (j *Job) refreshComets(ctx context.Context) {
	j.refreshMu.Lock()
	defer j.refreshMu.Unlock()
	j.refreshLocked(ctx)
}

// refreshIfStale refreshes the comet list unless it was fetched less than
// minRefreshGap ago; concurrent callers wait for one fetch.
func (j *Job) refreshIfStale(ctx context.Context) {
	j.refreshMu.Lock()
	defer j.refreshMu.Unlock()
	if time.Since(j.lastRefresh) >= minRefreshGap {
		j.refreshLocked(ctx)
	}
}

// refreshLocked fetches and applies the comet list.
func (j *Job) refreshLocked(ctx context.Context) {
	if j.cometsStopped {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, logicTimeout)
	rep, err := j.logic.Nodes(ctx, &logicrpc.NodesReq{Kind: logicrpc.KindComet})
	cancel()
	j.lastRefresh = time.Now()
	if err != nil {
		if count, ok := j.logicLog.allow(1); ok {
			j.logger.Warn("job: fetching comet list from logic", "failures", count, "err", err)
		}
		return
	}
	j.applyCometsLocked(rep.Nodes)
}

// applyCometsLocked makes the comet list match nodes: it starts workers for
// new comets (or comets whose address changed) and stops those gone.
func (j *Job) applyCometsLocked(nodes []logicrpc.NodeInfo) {
	old := j.comets.Load()
	next := &cometList{byID: make(map[string]*cometWorker, len(nodes))}
	for i := range nodes {
		n := &nodes[i]
		if n.ID == "" || n.RPCAddr == "" || next.byID[n.ID] != nil {
			continue
		}
		w := old.byID[n.ID]
		if w == nil || w.addr != n.RPCAddr {
			w = j.newCometWorker(n.ID, n.RPCAddr)
			j.logger.Info("job: comet joined", "comet", n.ID, "addr", n.RPCAddr)
		}
		next.list = append(next.list, w)
		next.byID[n.ID] = w
	}
	j.comets.Store(next)
	for _, w := range old.list {
		if next.byID[w.id] != w {
			j.logger.Info("job: comet left", "comet", w.id, "addr", w.addr)
			w.stop()
		}
	}
}

// stopComets stops every comet worker and keeps the list empty from now on.
func (j *Job) stopComets() {
	j.refreshMu.Lock()
	defer j.refreshMu.Unlock()
	j.cometsStopped = true
	old := j.comets.Swap(emptyComets())
	for _, w := range old.list {
		w.stop()
	}
}

// cometsIdle reports whether no comet has a request queued or in progress.
func (j *Job) cometsIdle() bool {
	for _, w := range j.comets.Load().list {
		if w.backlog.Load() != 0 {
			return false
		}
	}
	return true
}

// logicLoop fetches the comet list every CometRefresh and reports the job
// every ReportInterval (and as soon as its address is known) until the job
// stops.
func (j *Job) logicLoop() {
	defer j.wg.Done()
	j.refreshComets(j.ctx)
	j.report(j.ctx, false)
	refresh := time.NewTicker(j.cfg.CometRefresh)
	defer refresh.Stop()
	report := time.NewTicker(j.cfg.ReportInterval)
	defer report.Stop()
	for {
		select {
		case <-j.ctx.Done():
			return
		case <-refresh.C:
			j.refreshComets(j.ctx)
		case <-report.C:
			j.report(j.ctx, false)
		case <-j.reportNow:
			j.report(j.ctx, false)
		}
	}
}

// report tells logic about the job, unless its address is not known yet.
// Once a report said offline, every later one does.
func (j *Job) report(ctx context.Context, offline bool) {
	addr := j.advertised()
	if addr == "" {
		return
	}
	j.reportMu.Lock()
	defer j.reportMu.Unlock()
	j.offline = j.offline || offline
	req := &logicrpc.ReportReq{Node: logicrpc.NodeInfo{
		ID:       j.cfg.NodeID,
		Kind:     logicrpc.KindJob,
		RPCAddr:  addr,
		Hostname: j.hostname,
		Offline:  j.offline,
	}}
	ctx, cancel := context.WithTimeout(ctx, logicTimeout)
	defer cancel()
	if _, err := j.logic.Report(ctx, req); err != nil {
		if count, ok := j.logicLog.allow(1); ok {
			j.logger.Warn("job: reporting to logic", "failures", count, "err", err)
		}
	}
}

// advertised returns the address reported to logic, "" while unknown.
func (j *Job) advertised() string {
	j.addrMu.Lock()
	defer j.addrMu.Unlock()
	return j.advertise
}

// setListenAddr derives the advertised address from a listener's address
// unless one is set, and asks for a report.
func (j *Job) setListenAddr(a net.Addr) {
	j.addrMu.Lock()
	set := j.advertise == ""
	if set {
		j.advertise = advertiseAddr(a.String())
	}
	j.addrMu.Unlock()
	if set {
		select {
		case j.reportNow <- struct{}{}:
		default:
		}
	}
}

// advertiseAddr replaces an unspecified host of addr with 127.0.0.1.
func advertiseAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
