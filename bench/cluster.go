package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/job"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

// Cluster timings: short report and refresh periods so that a cluster is
// ready within a fraction of a second.
const (
	clusterReport  = 100 * time.Millisecond
	clusterRefresh = 100 * time.Millisecond
)

// ErrNotReady is returned by StartCluster when the tiers did not find each
// other in time.
var ErrNotReady = errors.New("bench: cluster not ready")

// ClusterConfig configures a Cluster. The tiers' configs are used as given
// except for their listen and advertised addresses, node ids, the links
// between the tiers, and report and refresh periods left zero (set short).
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
// 127.0.0.1 with ports chosen by the system.
type Cluster struct {
	Logic *logic.Logic
	Job   *job.Job
	Comet *comet.Comet

	HTTPAddr string // the push API, host:port
	TCPAddr  string // comet's TCP client listener
	WSAddr   string // comet's WebSocket client listener (path /sub)

	closers   []func() error          // in the order Close calls them
	serves    sync.WaitGroup          // Serve goroutines
	directJob atomic.Pointer[job.Job] // Job, for logic's DialJob in Direct mode
}

// StartCluster starts logic, job and comet, and returns once logic knows
// the comet and the job, and the job knows the comet. Close stops it.
func StartCluster(cfg ClusterConfig) (*Cluster, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	c := &Cluster{}
	err := c.start(&cfg)
	if err == nil {
		err = c.waitReady(cfg.ReadyTimeout)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// start starts the three tiers.
func (c *Cluster) start(cfg *ClusterConfig) error {
	lns, err := listenN(6)
	if err != nil {
		return err
	}
	apiLn, logicLn, jobLn, tcpLn, wsLn, cometLn := lns[0], lns[1], lns[2], lns[3], lns[4], lns[5]
	c.HTTPAddr, c.TCPAddr, c.WSAddr = apiLn.Addr().String(), tcpLn.Addr().String(), wsLn.Addr().String()
	if err := c.startLogic(cfg, apiLn, logicLn); err != nil {
		closeAll(lns[2:])
		return err
	}
	if err := c.startComet(cfg, logicLn.Addr().String(), tcpLn, wsLn, cometLn); err != nil {
		closeAll(lns[2:])
		return err
	}
	return c.startJob(cfg, logicLn.Addr().String(), jobLn)
}

// listenN opens n loopback listeners.
func listenN(n int) ([]net.Listener, error) {
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			closeAll(lns)
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

// goServe runs serve(ln) on a goroutine that Close waits for.
func (c *Cluster) goServe(serve func(net.Listener) error, ln net.Listener) {
	c.serves.Add(1)
	go func() {
		defer c.serves.Done()
		_ = serve(ln)
	}()
}

// startLogic starts logic serving the push API and its RPC.
func (c *Cluster) startLogic(cfg *ClusterConfig, apiLn, rpcLn net.Listener) error {
	lc := cfg.Logic
	if cfg.Direct {
		lc.DialJob = func(logicrpc.NodeInfo) (jobrpc.Service, error) {
			j := c.directJob.Load()
			if j == nil {
				return nil, ErrNotReady
			}
			return j, nil
		}
	}
	l, err := logic.New(lc, cfg.Logger)
	if err != nil {
		apiLn.Close()
		rpcLn.Close()
		return fmt.Errorf("bench: start logic: %w", err)
	}
	c.Logic = l
	c.goServe(l.ServeAPI, apiLn)
	c.goServe(l.ServeRPC, rpcLn)
	c.closers = append(c.closers, l.Close)
	return nil
}

// startComet starts the comet on its client and RPC listeners.
func (c *Cluster) startComet(cfg *ClusterConfig, logicAddr string, tcpLn, wsLn, rpcLn net.Listener) error {
	cc := cfg.Comet
	cc.NodeID = "bench-comet"
	cc.TCPAddrs = []string{comet.NoListen}
	cc.WSAddr, cc.WSSAddr, cc.TCPTLSAddr, cc.RPCAddr = comet.NoListen, comet.NoListen, comet.NoListen, comet.NoListen
	cc.RPCAdvertise = rpcLn.Addr().String()
	if cc.ReportInterval == 0 {
		cc.ReportInterval = clusterReport
	}
	var svc logicrpc.Service = c.Logic
	if !cfg.Direct {
		lc := logicrpc.NewClient(logicAddr, rpc.ClientConfig{}, cfg.Logger)
		svc = lc
		c.closers = append([]func() error{lc.Close}, c.closers...) // after the comet
	}
	cm, err := comet.New(cc, svc, cfg.Logger)
	if err != nil {
		return fmt.Errorf("bench: start comet: %w", err)
	}
	c.Comet = cm
	c.goServe(cm.ServeTCP, tcpLn)
	c.goServe(cm.ServeWS, wsLn)
	c.goServe(cm.ServeRPC, rpcLn)
	c.closers = append([]func() error{cm.Close}, c.closers...)
	return nil
}

// startJob starts the job serving its RPC.
func (c *Cluster) startJob(cfg *ClusterConfig, logicAddr string, ln net.Listener) error {
	jc := cfg.Job
	jc.NodeID = "bench-job"
	jc.LogicAddr = logicAddr
	if jc.CometRefresh == 0 {
		jc.CometRefresh = clusterRefresh
	}
	if jc.ReportInterval == 0 {
		jc.ReportInterval = clusterReport
	}
	if cfg.Direct {
		jc.Logic = c.Logic
		jc.DialComet = func(string) cometrpc.Service { return c.Comet }
	}
	j, err := job.New(jc, cfg.Logger)
	if err != nil {
		ln.Close()
		return fmt.Errorf("bench: start job: %w", err)
	}
	c.Job = j
	c.directJob.Store(j)
	c.goServe(j.Serve, ln)
	c.closers = append([]func() error{j.Close}, c.closers...)
	return nil
}

// waitReady polls until logic lists the comet and the job, and the job
// fans out to the comet.
func (c *Cluster) waitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if c.ready(ctx) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w after %v", ErrNotReady, timeout)
		case <-t.C:
		}
	}
}

// ready reports whether the tiers know each other.
func (c *Cluster) ready(ctx context.Context) bool {
	for _, kind := range []string{logicrpc.KindComet, logicrpc.KindJob} {
		rep, err := c.Logic.Nodes(ctx, &logicrpc.NodesReq{Kind: kind})
		if err != nil || len(rep.Nodes) == 0 {
			return false
		}
	}
	return len(c.Job.Stats().Comets) > 0
}

// Close stops the tiers (job first, then comet, then logic) and waits for
// their serve loops. It returns the first error.
func (c *Cluster) Close() error {
	var err error
	for _, f := range c.closers {
		if e := f(); e != nil && err == nil && !errors.Is(e, io.EOF) {
			err = e
		}
	}
	c.closers = nil
	c.serves.Wait()
	return err
}
