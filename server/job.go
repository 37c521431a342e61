package server

import (
	"cmp"
	"context"
	"log/slog"
	"net"

	"github.com/goimx/goim/job"
	"github.com/goimx/goim/logic/logicrpc"
)

// JobNode is a running job tier: the Job, its listener and its logic
// client.
type JobNode struct {
	j         *job.Job
	ln        net.Listener
	logic     *logicrpc.Failover // nil when the job calls logic in process
	logicAddr string             // for the log and metrics: the addresses dialed, or "in process"
	metrics   *metricsServer     // nil without JobConfig.MetricsAddr
	loops     *loops
}

// StartJob binds the listener of cfg, dials logic at cfg.LogicAddr, makes
// the Job and serves it until Shutdown or Close. Whenever a link to logic
// is made again (a logic node restarted), the job reports at once. A nil
// logger means slog.Default().
func StartJob(cfg JobConfig, logger *slog.Logger) (*JobNode, error) {
	return startJob(cfg, cmp.Or(logger, slog.Default()), false, nil, nil)
}

// startJob is StartJob. loopback advertises the listener on 127.0.0.1
// when its host is unspecified (a whole node in one process) instead of
// the host name. A non-nil d gives the job d's Logic and d's Comet in
// process (other comets over RPC) and records the Job in d.
func startJob(cfg JobConfig, logger *slog.Logger, loopback bool, d *directLinks, obs *observed) (*JobNode, error) {
	cfg = cfg.withDefaults()
	var ls listeners
	ln, err := ls.listen("job rpc", cfg.RPCAddr, nil)
	if err != nil {
		return nil, err
	}
	ms, err := listenMetrics(&ls, "job metrics", cfg.MetricsAddr)
	if err != nil {
		ls.close()
		return nil, err
	}
	jc := cfg.Job
	if jc.NodeID == "" {
		jc.NodeID = defaultNodeID(ln.Addr())
	}
	if jc.AdvertiseAddr == "" {
		jc.AdvertiseAddr = advertise(ln.Addr(), loopback)
	}
	t := &JobNode{ln: ln, metrics: ms, logicAddr: cfg.LogicAddr, loops: newLoops()}
	var linked reportOnLink
	if d != nil {
		t.logicAddr = "in process"
		jc.Logic, jc.DialComet = d.logic, d.dialComet(jc.Client)
		d.job.Store(&ownJob{id: jc.NodeID, addr: jc.AdvertiseAddr})
	} else {
		t.logic = logicrpc.NewFailover(logicrpc.SplitAddrs(cfg.LogicAddr), linked.config(jc.Client), logger)
		jc.Logic = t.logic
	}
	t.j, err = job.New(jc, logger)
	if err != nil {
		ls.close()
		closeLogic(t.logic)
		return nil, err // prefixed "job: "
	}
	linked.set(t.j.ReportNow)
	if d != nil {
		d.job.Store(&ownJob{id: jc.NodeID, addr: jc.AdvertiseAddr, j: t.j})
	}
	t.loops.goServe("job rpc", func() error { return t.j.Serve(ln) }, job.ErrServerClosed)
	own := &observed{}
	own.job.Store(t)
	t.metrics.serve("job metrics", own, t.loops)
	if obs != nil {
		obs.job.Store(t)
	}
	c := t.j.Config()
	logger.Info("job: started", "node_id", c.NodeID, "rpc", ln.Addr().String(), "advertise", c.AdvertiseAddr,
		"logic", t.logicAddr, "metrics", addrString(t.metrics.addr()), "batch_size", c.BatchSize, "batch_window", c.BatchWindow)
	return t, nil
}

// Job returns the running Job.
func (t *JobNode) Job() *job.Job { return t.j }

// Addr returns the bound RPC address.
func (t *JobNode) Addr() net.Addr { return t.ln.Addr() }

// MetricsAddr returns the bound address of /metrics, /healthz and
// /readyz, or nil without JobConfig.MetricsAddr.
func (t *JobNode) MetricsAddr() net.Addr { return t.metrics.addr() }

// Err returns a channel that receives the error of the first serve loop
// that stopped on its own, and is closed once Shutdown or Close has seen
// every serve loop return.
func (t *JobNode) Err() <-chan error { return t.loops.errc }

// Shutdown stops the job gracefully, bounded by ctx: it reports itself
// offline, refuses new pushes, drains its room batches and comet queues,
// then closes the logic client.
func (t *JobNode) Shutdown(ctx context.Context) error {
	return shutdownTier(ctx, t.j.Shutdown, t.metrics, t.loops, t.logic)
}

// Close stops the job at once and closes the logic client.
func (t *JobNode) Close() error {
	return closeTier(t.j.Close, t.metrics, t.loops, t.logic)
}
