package cli

import (
	"log/slog"
	"math"
	"time"

	"github.com/goimx/goim/job"
	"github.com/goimx/goim/server"
)

// JobFlags are the flags of the job tier.
type JobFlags struct {
	f          flagger
	standalone bool
	rpc        rpcFlags
	cfg        server.JobConfig // the fields set by a flag
}

// Job registers the job tier's flags, each name prefixed by prefix.
// standalone adds -logic, the logic RPC address to dial (the all-in-one
// binary dials its own logic).
func (a *App) Job(prefix string, standalone bool) *JobFlags {
	jf := &JobFlags{f: flagger{fs: a.fs, prefix: prefix}, standalone: standalone}
	jf.rpc.sec = a.rpcSecurity()
	jf.register()
	return jf
}

// register registers the flags with the defaults of job.Config.
func (jf *JobFlags) register() {
	f, c := jf.f, &jf.cfg.Job
	f.addr(&jf.cfg.RPCAddr, "rpc", server.DefaultJobRPCAddr, false, "listen address of the job RPC service that logic dials")
	f.addr(&c.AdvertiseAddr, "advertise", "", false, "RPC address reported to logic, where logic dials this job (empty: the -@rpc address, an unspecified host becomes the host name, or 127.0.0.1 in goim)")
	if jf.standalone {
		f.addrList(&jf.cfg.LogicAddr, "logic", server.DefaultLogicDialAddr, "logic RPC address to dial (logic's -rpc), or a comma-separated list of logic nodes sharing a Redis store: calls go to a live one, failing over to the next")
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

// Config returns the job tier's configuration the flags describe.
func (jf *JobFlags) Config() server.JobConfig {
	c := jf.cfg
	c.Job.Server = jf.rpc.server()
	c.Job.Client = jf.rpc.client()
	return c
}

// Start starts the job tier the flags describe, dialing logic at -logic,
// and adds it to g.
func (jf *JobFlags) Start(g *Group) (*JobTier, error) {
	if err := jf.checkExposure(g.Logger()); err != nil {
		return nil, err
	}
	n, err := server.StartJob(jf.Config(), g.Logger())
	if err != nil {
		return nil, err
	}
	return g.addJob(n), nil
}

// checkExposure applies the RPC startup rule to -rpc.
func (jf *JobFlags) checkExposure(logger *slog.Logger) error {
	return jf.rpc.sec.checkExposure(jf.f.name("rpc"), jf.cfg.RPCAddr, logger)
}

// JobTier is a running job tier, as a Group drives it.
type JobTier struct {
	*server.JobNode
}

// addJob adds the started job n to g.
func (g *Group) addJob(n *server.JobNode) *JobTier {
	t := &JobTier{n}
	g.Add(t)
	g.watch(t.Name(), n.Err())
	return t
}

// Name implements Tier.
func (t *JobTier) Name() string { return "job" }

// Stats implements Tier.
func (t *JobTier) Stats() any { return t.Job().Stats() }

// StatsAttrs implements Tier.
func (t *JobTier) StatsAttrs() []any {
	s := t.Job().Stats()
	return append([]any{"push_keys", s.PushKeys, "push_room", s.PushRoom, "push_all", s.PushAll,
		"rejected", s.RejectedClosed + s.RejectedBad + s.RejectedUnknownComet,
		"batches", s.Batches, "delivered_msgs", s.DeliveredMsgs, "dropped", s.Dropped(),
		"rooms", s.Rooms, "comets", len(s.Comets)}, rpcStatsAttrs(t.Job().RPCStats())...)
}

// Name returns the full name of the job flag n (with the prefix).
func (jf *JobFlags) Name(n string) string { return jf.f.name(n) }
