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
	j     *job.Job
	ln    net.Listener
	logic *logicrpc.Failover // nil when the job calls logic in process
	loops *loops
}

// StartJob binds the listener of cfg, dials logic at cfg.LogicAddr, makes
// the Job and serves it until Shutdown or Close. Whenever a link to logic
// is made again (a logic node restarted), the job reports at once. A nil
// logger means slog.Default().
func StartJob(cfg JobConfig, logger *slog.Logger) (*JobNode, error) {
	return startJob(cfg, cmp.Or(logger, slog.Default()), false, nil)
}

// startJob is StartJob. loopback advertises the listener on 127.0.0.1
// when its host is unspecified (a whole node in one process) instead of
// the host name. A non-nil d gives the job d's Logic and d's Comet in
// process (other comets over RPC) and records the Job in d.
func startJob(cfg JobConfig, logger *slog.Logger, loopback bool, d *directLinks) (*JobNode, error) {
	cfg = cfg.withDefaults()
	var ls listeners
	ln, err := ls.listen("job rpc", cfg.RPCAddr, nil)
	if err != nil {
		return nil, err
	}
	jc := cfg.Job
	if jc.NodeID == "" {
		jc.NodeID = defaultNodeID(ln.Addr())
	}
	if jc.AdvertiseAddr == "" {
		jc.AdvertiseAddr = advertise(ln.Addr(), loopback)
	}
	t := &JobNode{ln: ln, loops: newLoops()}
	logicLog := cfg.LogicAddr
	var linked reportOnLink
	if d != nil {
		logicLog = "in process"
		jc.Logic, jc.DialComet = d.logic, d.dialComet(jc.Client)
		d.job.Store(&ownJob{id: jc.NodeID, addr: jc.AdvertiseAddr})
	} else {
		t.logic = logicrpc.NewFailover(logicrpc.SplitAddrs(cfg.LogicAddr), linked.config(jc.Client), logger)
		jc.Logic = t.logic
	}
	t.j, err = job.New(jc, logger)
	if err != nil {
		ls.close()
		t.closeLogic()
		return nil, err // prefixed "job: "
	}
	linked.set(t.j.ReportNow)
	if d != nil {
		d.job.Store(&ownJob{id: jc.NodeID, addr: jc.AdvertiseAddr, j: t.j})
	}
	t.loops.goServe("job rpc", func() error { return t.j.Serve(ln) }, job.ErrServerClosed)
	c := t.j.Config()
	logger.Info("job: started", "node_id", c.NodeID, "rpc", ln.Addr().String(), "advertise", c.AdvertiseAddr,
		"logic", logicLog, "batch_size", c.BatchSize, "batch_window", c.BatchWindow)
	return t, nil
}

// Job returns the running Job.
func (t *JobNode) Job() *job.Job { return t.j }

// Addr returns the bound RPC address.
func (t *JobNode) Addr() net.Addr { return t.ln.Addr() }

// Err returns a channel that receives the error of the first serve loop
// that stopped on its own, and is closed once Shutdown or Close has seen
// every serve loop return.
func (t *JobNode) Err() <-chan error { return t.loops.errc }

// Shutdown stops the job gracefully, bounded by ctx: it reports itself
// offline, refuses new pushes, drains its room batches and comet queues,
// then closes the logic client.
func (t *JobNode) Shutdown(ctx context.Context) error {
	err := t.j.Shutdown(ctx)
	if err == nil {
		t.loops.wait()
	}
	t.closeLogic()
	return err
}

// Close stops the job at once and closes the logic client.
func (t *JobNode) Close() error {
	err := t.j.Close()
	t.loops.wait()
	t.closeLogic()
	return err
}

// closeLogic closes the logic client, if the job dialed one.
func (t *JobNode) closeLogic() {
	if t.logic != nil {
		t.logic.Close()
	}
}
