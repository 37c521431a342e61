package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"time"

	"github.com/goimx/goim/job"
	"github.com/goimx/goim/rpc"
)

// JobFlags are the flags of the job tier.
type JobFlags struct {
	f          flagger
	standalone bool
	rpc        rpcFlags
	cfg        job.Config // the fields set by a flag
}

// Job registers the job tier's flags, each name prefixed by prefix.
// standalone adds -logic, the logic RPC address to dial (the all-in-one
// binary dials its own logic).
func (a *App) Job(prefix string, standalone bool) *JobFlags {
	jf := &JobFlags{f: flagger{fs: a.fs, prefix: prefix}, standalone: standalone}
	jf.register()
	return jf
}

// register registers the flags with the defaults of job.Config.
func (jf *JobFlags) register() {
	f, c := jf.f, &jf.cfg
	f.addr(&c.Addr, "rpc", job.DefaultAddr, false, "listen address of the job RPC service that logic dials")
	f.addr(&c.AdvertiseAddr, "advertise", "", false, "RPC address reported to logic, where logic dials this job (empty: the -@rpc address, an unspecified host becomes the host name, or 127.0.0.1 in goim)")
	if jf.standalone {
		f.addr(&c.LogicAddr, "logic", job.DefaultLogicAddr, false, "logic RPC address to dial (logic's -rpc)")
	}
	f.str(&c.NodeID, "node-id", "", "node id in logic's registry (empty: hostname:port of -@rpc)")
	f.integer(&c.BatchSize, "batch-size", job.DefaultBatchSize, 1, 1<<20, "most messages in one room batch (1: no batching)")
	f.integer(&c.BatchBytes, "batch-bytes", job.DefaultBatchBytes, 1, math.MaxInt32, "a room batch is sent once its encoded size reaches this many bytes")
	f.duration(&c.BatchWindow, "batch-window", job.DefaultBatchWindow, math.MinInt64, "shortest time between two sends of a room's batches, so the longest wait of a room message; a room that sent nothing within it sends at once (negative: no batching)")
	f.duration(&c.RoomIdleTimeout, "room-idle-timeout", job.DefaultRoomIdleTimeout, time.Millisecond, "a room without messages for this long drops its state")
	f.integer(&c.CometQueueSize, "comet-queue", job.DefaultCometQueueSize, 1, 1<<24, "requests queued per comet; more are dropped (counted in the stats)")
	f.duration(&c.CometRefresh, "comet-refresh", job.DefaultCometRefresh, time.Millisecond, "how often the comet list is fetched from logic")
	f.duration(&c.ReportInterval, "report-interval", job.DefaultReportInterval, time.Millisecond, "period of the job's report to logic; keep it well under logic's node-ttl")
	jf.rpc.register(f, true, true)
}

// LogicAddr returns the logic RPC address of -logic (standalone only).
func (jf *JobFlags) LogicAddr() string { return jf.cfg.LogicAddr }

// Config returns the job.Config the flags describe, without the logic
// address for the all-in-one binary.
func (jf *JobFlags) Config() job.Config {
	c := jf.cfg
	c.Server = jf.rpc.server()
	c.Client = jf.rpc.client()
	return c
}

// errJobNoLogic is returned by Start without a logic address.
var errJobNoLogic = errors.New("cli: job without a logic address")

// JobTier is a running job tier.
type JobTier struct {
	j  *job.Job
	ln net.Listener
}

// Start binds the job's RPC listener, makes the Job (dialing logic at
// logicAddr) and serves it, adding it to g. loopback advertises the
// listener on 127.0.0.1 when its host is unspecified (the all-in-one
// binary) instead of the host name.
func (jf *JobFlags) Start(g *Group, logicAddr string, loopback bool) (*JobTier, error) {
	return jf.start(g, logicAddr, loopback, nil)
}

// start is Start; a non-nil d gives the job d's Logic and d's Comet in
// process (other comets over RPC) and records the Job in d.
func (jf *JobFlags) start(g *Group, logicAddr string, loopback bool, d *directLinks) (*JobTier, error) {
	if logicAddr == "" {
		return nil, errJobNoLogic
	}
	cfg := jf.Config()
	cfg.LogicAddr = logicAddr
	var ls listeners
	ln, err := ls.listen("job rpc", cfg.Addr, nil)
	if err != nil {
		return nil, err
	}
	cfg.Addr = ln.Addr().String()
	if cfg.NodeID == "" {
		cfg.NodeID = defaultNodeID(ln.Addr())
	}
	if cfg.AdvertiseAddr == "" {
		cfg.AdvertiseAddr = advertise(ln.Addr(), loopback)
	}
	logicLog := cfg.LogicAddr
	if d != nil {
		logicLog = "in process"
		cfg.Logic, cfg.DialComet = d.logic, d.dialComet(cfg.Client)
		d.job.Store(&ownJob{id: cfg.NodeID, addr: cfg.AdvertiseAddr})
	}
	j, err := job.New(cfg, g.Logger())
	if err != nil {
		ls.close()
		return nil, fmt.Errorf("job: %w", err)
	}
	if d != nil {
		d.job.Store(&ownJob{id: cfg.NodeID, addr: cfg.AdvertiseAddr, j: j})
	}
	t := &JobTier{j: j, ln: ln}
	g.Add(t)
	g.Go("job rpc", func() error { return j.Serve(ln) }, rpc.ErrServerClosed)
	g.Logger().Info("job: started", "node_id", cfg.NodeID, "rpc", cfg.Addr, "advertise", cfg.AdvertiseAddr,
		"logic", logicLog, "batch_size", cfg.BatchSize, "batch_window", cfg.BatchWindow)
	return t, nil
}

// Job returns the running Job.
func (t *JobTier) Job() *job.Job { return t.j }

// Addr returns the bound RPC address.
func (t *JobTier) Addr() net.Addr { return t.ln.Addr() }

// Name implements Tier.
func (t *JobTier) Name() string { return "job" }

// Shutdown implements Tier: the job reports itself offline, refuses new
// pushes, and drains its room batches and comet queues.
func (t *JobTier) Shutdown(ctx context.Context) error { return t.j.Shutdown(ctx) }

// Close implements Tier.
func (t *JobTier) Close() error { return t.j.Close() }

// Stats implements Tier.
func (t *JobTier) Stats() any { return t.j.Stats() }

// StatsAttrs implements Tier.
func (t *JobTier) StatsAttrs() []any {
	s := t.j.Stats()
	return []any{"push_keys", s.PushKeys, "push_room", s.PushRoom, "push_all", s.PushAll,
		"rejected", s.RejectedClosed + s.RejectedBad + s.RejectedUnknownComet,
		"batches", s.Batches, "delivered_msgs", s.DeliveredMsgs, "dropped", s.Dropped(),
		"rooms", s.Rooms, "comets", len(s.Comets)}
}
