package server

import (
	"cmp"
	"context"
	"log/slog"
	"net"

	"github.com/goimx/goim/logic"
)

// LogicNode is a running logic tier: the Logic and its listeners.
type LogicNode struct {
	l      *logic.Logic
	httpLn net.Listener
	rpcLn  net.Listener
	loops  *loops
}

// StartLogic binds the listeners of cfg, makes the Logic and serves it
// until Shutdown or Close. A nil logger means slog.Default().
func StartLogic(cfg LogicConfig, logger *slog.Logger) (*LogicNode, error) {
	return startLogic(cfg, cmp.Or(logger, slog.Default()), nil, &observed{})
}

// startLogic is StartLogic; a non-nil d makes logic reach d's own job in
// process and records the Logic in d. The HTTP port serves the metrics
// and probes of obs's tiers, this logic added to obs once started.
func startLogic(cfg LogicConfig, logger *slog.Logger, d *directLinks, obs *observed) (*LogicNode, error) {
	cfg = cfg.withDefaults()
	lc := cfg.Logic
	lc.Handlers = obs.withHandlers(lc.Handlers)
	if d != nil {
		d.jobClient, d.logger = lc.JobClient, logger
		lc.DialJob = d.dialJob
	}
	var ls listeners
	httpLn, err := ls.listen("logic http", cfg.HTTPAddr, nil)
	if err != nil {
		return nil, err
	}
	rpcLn, err := ls.listen("logic rpc", cfg.RPCAddr, nil)
	if err != nil {
		ls.close()
		return nil, err
	}
	l, err := logic.New(lc, logger)
	if err != nil {
		ls.close()
		return nil, err
	}
	if d != nil {
		d.logic = l
	}
	t := &LogicNode{l: l, httpLn: httpLn, rpcLn: rpcLn, loops: newLoops()}
	obs.logic.Store(t)
	t.loops.goServe("logic http", func() error { return l.ServeAPI(httpLn) }, logic.ErrServerClosed)
	t.loops.goServe("logic rpc", func() error { return l.ServeRPC(rpcLn) }, logic.ErrServerClosed)
	c := l.Config()
	logger.Info("logic: started", "http", httpLn.Addr().String(), "rpc", rpcLn.Addr().String(),
		"node_ttl", c.NodeTTL, "heartbeat", c.Heartbeat, "push_timeout", c.PushTimeout)
	return t, nil
}

// Logic returns the running Logic.
func (t *LogicNode) Logic() *logic.Logic { return t.l }

// HTTPAddr returns the bound address of the HTTP push API.
func (t *LogicNode) HTTPAddr() net.Addr { return t.httpLn.Addr() }

// RPCAddr returns the bound address of the logic RPC service.
func (t *LogicNode) RPCAddr() net.Addr { return t.rpcLn.Addr() }

// Err returns a channel that receives the error of the first serve loop
// that stopped on its own, and is closed once Shutdown or Close has seen
// every serve loop return.
func (t *LogicNode) Err() <-chan error { return t.loops.errc }

// Shutdown stops the HTTP API and the RPC service from accepting and
// waits, bounded by ctx, for the requests in progress.
func (t *LogicNode) Shutdown(ctx context.Context) error {
	err := t.l.Shutdown(ctx)
	if err == nil {
		t.loops.wait()
	}
	return err
}

// Close stops the logic tier at once.
func (t *LogicNode) Close() error {
	err := t.l.Close()
	t.loops.wait()
	return err
}
