package server

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/logic/logicrpc"
)

// CometAddrs are the addresses a comet tier listens on; a listener
// turned off is nil (or absent from TCP).
type CometAddrs struct {
	TCP    []net.Addr // plain TCP clients
	WS     net.Addr   // plain WebSocket clients
	WSS    net.Addr   // WebSocket over TLS
	TCPTLS net.Addr   // TCP over TLS
	RPC    net.Addr   // the comet RPC service
	// Metrics serves /metrics, /healthz and /readyz (nil: none).
	Metrics net.Addr
}

// CometNode is a running comet tier: the Comet, its listeners and its
// logic client.
type CometNode struct {
	cm        *comet.Comet
	logic     *logicrpc.Failover // nil when the comet calls logic in process
	logicAddr string             // for the log: the address dialed, or "in process"
	lns       listeners
	bound     CometAddrs
	tcp       []net.Listener // plain and TLS TCP client listeners
	ws        []net.Listener // plain and TLS WebSocket listeners
	rpc       net.Listener
	metrics   *metricsServer // nil without CometConfig.MetricsAddr
	loops     *loops
}

// StartComet binds the listeners of cfg, dials logic at cfg.LogicAddr,
// makes the Comet and serves it until Shutdown or Close. It serves the
// comet RPC at once, but accepts clients only after the first report to
// logic succeeded (or cfg.RegisterWait passed). Whenever a link to logic
// is made again (a logic node restarted), the comet reports at once. A
// nil logger means slog.Default().
func StartComet(cfg CometConfig, logger *slog.Logger) (*CometNode, error) {
	return startComet(cfg, cmp.Or(logger, slog.Default()), false, nil, nil)
}

// startComet is StartComet. loopback advertises the RPC listener on
// 127.0.0.1 when its host is unspecified (a whole node in one process)
// instead of the host name. A non-nil d gives the comet d's Logic in
// process instead of an RPC client, and records the Comet and its
// advertised RPC address in d.
func startComet(cfg CometConfig, logger *slog.Logger, loopback bool, d *directLinks, obs *observed) (*CometNode, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	t := &CometNode{logicAddr: cfg.LogicAddr, loops: newLoops()}
	if err := t.listen(&cfg); err != nil {
		return nil, err
	}
	cc := cfg.Comet
	if cc.NodeID == "" {
		cc.NodeID = defaultNodeID(t.bound.RPC)
	}
	if cc.RPCAdvertise == "" {
		cc.RPCAdvertise = advertise(t.bound.RPC, loopback)
	}
	var svc logicrpc.Service
	var linked reportOnLink
	if d != nil {
		svc, t.logicAddr = d.logic, "in process"
	} else {
		t.logic = logicrpc.NewFailover(logicrpc.SplitAddrs(cfg.LogicAddr), linked.config(cfg.LogicClient), logger)
		svc = t.logic
	}
	t.cm, err = comet.New(cc, svc, logger)
	if err != nil {
		t.lns.close()
		closeLogic(t.logic)
		return nil, err // prefixed "comet: "
	}
	linked.set(t.cm.ReportNow)
	if d != nil {
		d.comet, d.cometAddr = t.cm, cc.RPCAdvertise
	}
	t.serveRPC()
	t.waitRegistered(cfg.RegisterWait, logger)
	t.serveClients()
	if obs != nil {
		obs.comet.Store(t)
	}
	if cfg.TLSSelfSigned && cfg.CertFile == "" {
		logger.Warn("comet: TLS WITH A SELF-SIGNED CERTIFICATE made at start: for development only; " +
			"clients must skip verification (goim-client -insecure); use -cert and -key in production")
	}
	logger.Info("comet: started", t.startAttrs(t.cm.Config())...)
	return t, nil
}

// waitRegistered waits, at most wait, for the comet's first successful
// report to logic; on timeout it logs a warning and returns.
func (t *CometNode) waitRegistered(wait time.Duration, logger *slog.Logger) {
	if wait < 0 || t.cm.Config().ReportInterval < 0 {
		return
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-t.cm.Registered():
	case <-timer.C:
		logger.Warn("comet: not in logic's registry yet; accepting clients anyway (they cannot authenticate until logic answers)",
			"logic", t.logicAddr, "waited", wait)
	}
}

// listen binds every listener of cfg; on error it closes those bound.
func (t *CometNode) listen(cfg *CometConfig) error {
	err := t.listenAll(cfg)
	if err != nil {
		t.lns.close()
	}
	return err
}

func (t *CometNode) listenAll(cfg *CometConfig) error {
	for _, a := range cfg.TCPAddrs {
		if a == NoListen {
			continue
		}
		ln, err := t.lns.listen("comet tcp", a, nil)
		if err != nil {
			return err
		}
		t.tcp = append(t.tcp, ln)
		t.bound.TCP = append(t.bound.TCP, ln.Addr())
	}
	bind := []struct {
		addr  string
		tls   bool
		into  *[]net.Listener
		bound *net.Addr
		what  string
	}{
		{cfg.WSAddr, false, &t.ws, &t.bound.WS, "comet ws"},
		{cfg.WSSAddr, true, &t.ws, &t.bound.WSS, "comet wss"},
		{cfg.TCPTLSAddr, true, &t.tcp, &t.bound.TCPTLS, "comet tcp-tls"},
	}
	for _, b := range bind {
		if b.addr == "" || b.addr == NoListen {
			continue
		}
		if b.tls && cfg.TLSConfig == nil {
			return fmt.Errorf("%s: listen %s: TLS listener without a certificate", b.what, b.addr)
		}
		tlsCfg := cfg.TLSConfig
		if !b.tls {
			tlsCfg = nil
		}
		ln, err := t.lns.listen(b.what, b.addr, tlsCfg)
		if err != nil {
			return err
		}
		*b.into = append(*b.into, ln)
		*b.bound = ln.Addr()
	}
	ln, err := t.lns.listen("comet rpc", cfg.RPCAddr, nil)
	if err != nil {
		return err
	}
	t.rpc, t.bound.RPC = ln, ln.Addr()
	if t.metrics, err = listenMetrics(&t.lns, "comet metrics", cfg.MetricsAddr); err != nil {
		return err
	}
	t.bound.Metrics = t.metrics.addr()
	return nil
}

// serveRPC starts the serve loop of the comet RPC.
func (t *CometNode) serveRPC() {
	t.loops.goServe("comet rpc", func() error { return t.cm.ServeRPC(t.rpc) }, comet.ErrServerClosed)
	own := &observed{} // its /readyz answers while the comet waits to register
	own.comet.Store(t)
	t.metrics.serve("comet metrics", own, t.loops)
}

// serveClients starts the serve loops of the client listeners.
func (t *CometNode) serveClients() {
	for _, ln := range t.tcp {
		t.loops.goServe("comet tcp "+ln.Addr().String(), func() error { return t.cm.ServeTCP(ln) }, comet.ErrServerClosed)
	}
	for _, ln := range t.ws {
		t.loops.goServe("comet ws "+ln.Addr().String(), func() error { return t.cm.ServeWS(ln) }, comet.ErrServerClosed)
	}
}

// startAttrs returns the attributes of the "comet: started" line.
func (t *CometNode) startAttrs(cfg comet.Config) []any {
	tcp := make([]string, len(t.bound.TCP))
	for i, a := range t.bound.TCP {
		tcp[i] = a.String()
	}
	return []any{
		"node_id", cfg.NodeID, "tcp", tcp, "ws", addrString(t.bound.WS), "wss", addrString(t.bound.WSS),
		"tcp_tls", addrString(t.bound.TCPTLS), "rpc", addrString(t.bound.RPC), "rpc_advertise", cfg.RPCAdvertise,
		"metrics", addrString(t.bound.Metrics),
		"logic", t.logicAddr, "report_interval", cfg.ReportInterval,
	}
}

// Comet returns the running Comet.
func (t *CometNode) Comet() *comet.Comet { return t.cm }

// Addrs returns the bound addresses.
func (t *CometNode) Addrs() CometAddrs {
	b := t.bound
	b.TCP = append([]net.Addr(nil), b.TCP...)
	return b
}

// Err returns a channel that receives the error of the first serve loop
// that stopped on its own, and is closed once Shutdown or Close has seen
// every serve loop return.
func (t *CometNode) Err() <-chan error { return t.loops.errc }

// Shutdown stops the comet gracefully, bounded by ctx: it stops
// accepting, closes every client (WebSocket clients get a close frame),
// tells logic of each (Disconnect), then closes the logic client.
func (t *CometNode) Shutdown(ctx context.Context) error {
	return shutdownTier(ctx, t.cm.Shutdown, t.metrics, t.loops, t.logic)
}

// Close stops the comet at once and closes the logic client.
func (t *CometNode) Close() error {
	return closeTier(t.cm.Close, t.metrics, t.loops, t.logic)
}
