package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/job"
	"github.com/goimx/goim/logic"
	"github.com/goimx/goim/server"
)

// Cluster timings: short report and refresh periods so that a cluster is
// ready within a fraction of a second.
const (
	clusterReport  = 100 * time.Millisecond
	clusterRefresh = 100 * time.Millisecond
)

// ClusterConfig configures a Cluster. The tiers' configs are used as given
// except for their node ids and report and refresh periods left zero (set
// short); the listeners are on 127.0.0.1 with ports chosen by the system.
type ClusterConfig struct {
	Logic logic.Config
	Job   job.Config
	Comet comet.Config
	// Direct makes the tiers call each other in process (logic -> job ->
	// comet and comet, job -> logic as method calls) instead of over the
	// RPC on loopback. False means the RPC, as separate processes would.
	Direct bool
	// Logger is given to every tier. Nil means a logger that discards
	// everything.
	Logger *slog.Logger
	// ReadyTimeout bounds the wait for the tiers to find each other. Zero
	// means 10s.
	ReadyTimeout time.Duration
}

// Cluster is one logic, one job and one comet running in this process on
// 127.0.0.1 with ports chosen by the system: a server.Node.
type Cluster struct {
	Logic *logic.Logic
	Job   *job.Job
	Comet *comet.Comet

	HTTPAddr string // the push API, host:port
	TCPAddr  string // comet's TCP client listener
	WSAddr   string // comet's WebSocket client listener (path /sub)

	node *server.Node
}

// StartCluster starts logic, job and comet, and returns once logic knows
// the comet and the job, and the job knows the comet (else an error
// wrapping server.ErrNotReady). Close stops it.
func StartCluster(cfg ClusterConfig) (*Cluster, error) {
	logger := cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	n, err := server.Start(nodeConfig(&cfg), logger)
	if err != nil {
		return nil, fmt.Errorf("bench: start cluster: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmp.Or(cfg.ReadyTimeout, 10*time.Second))
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		n.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	ca := n.Comet().Addrs()
	return &Cluster{
		Logic: n.Logic().Logic(), Job: n.Job().Job(), Comet: n.Comet().Comet(),
		HTTPAddr: n.Logic().HTTPAddr().String(), TCPAddr: ca.TCP[0].String(), WSAddr: ca.WS.String(),
		node: n,
	}, nil
}

// nodeConfig returns the server.Config of a cluster.
func nodeConfig(cfg *ClusterConfig) server.Config {
	const loop = "127.0.0.1:0"
	cc, jc := cfg.Comet, cfg.Job
	cc.NodeID, jc.NodeID = "bench-comet", "bench-job"
	// The load generator connects thousands of clients from a few loopback
	// IPs: the per-IP limits would refuse it (negative: off).
	cc.MaxConnsPerIP = cmp.Or(cc.MaxConnsPerIP, -1)
	cc.AuthRatePerIP = cmp.Or(cc.AuthRatePerIP, -1)
	cc.ReportInterval = cmp.Or(cc.ReportInterval, clusterReport)
	jc.CometRefresh = cmp.Or(jc.CometRefresh, clusterRefresh)
	jc.ReportInterval = cmp.Or(jc.ReportInterval, clusterReport)
	links := server.LinksRPC
	if cfg.Direct {
		links = server.LinksDirect
	}
	return server.Config{
		Logic: server.LogicConfig{Logic: cfg.Logic, HTTPAddr: loop, RPCAddr: loop},
		Comet: server.CometConfig{Comet: cc, TCPAddrs: []string{loop}, WSAddr: loop, RPCAddr: loop},
		Job:   server.JobConfig{Job: jc, RPCAddr: loop},
		Links: links,
	}
}

// Close stops the tiers (job first, then comet, then logic) and waits for
// their serve loops. It returns the first error.
func (c *Cluster) Close() error {
	if c.node == nil {
		return nil
	}
	err := c.node.Close()
	c.node = nil
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
