package cli

import (
	"context"
	"math"
	"net"
	"time"

	"github.com/goimx/goim/logic"
)

// LogicFlags are the flags of the logic tier.
type LogicFlags struct {
	f   flagger
	rpc rpcFlags
	cfg logic.Config // the fields set by a flag
}

// Logic registers the logic tier's flags, each name prefixed by prefix.
func (a *App) Logic(prefix string) *LogicFlags {
	lf := &LogicFlags{f: flagger{fs: a.fs, prefix: prefix}}
	lf.register()
	return lf
}

// register registers the flags with the defaults of logic.Config.
func (lf *LogicFlags) register() {
	f, c := lf.f, &lf.cfg
	f.addr(&c.HTTPAddr, "http", logic.DefaultHTTPAddr, false, "listen address of the HTTP push API (goim's push, online and nodes endpoints)")
	f.addr(&c.RPCAddr, "rpc", logic.DefaultRPCAddr, false, "listen address of the logic RPC service that comets and jobs dial")
	f.integer(&c.MaxMessageSize, "max-message", logic.DefaultMaxMessageSize, 1, math.MaxInt32, "largest push body in bytes; a larger push is a -400")
	f.duration(&c.Heartbeat, "heartbeat", logic.DefaultHeartbeat, time.Second, "client heartbeat interval, told to clients by /goim/nodes/weighted")
	f.integer(&c.HeartbeatMax, "heartbeat-max", logic.DefaultHeartbeatMax, 1, 1000, "heartbeats a client may miss: a comet closes a client silent for heartbeat x heartbeat-max")
	f.duration(&c.SessionTTL, "session-ttl", logic.DefaultSessionTTL, time.Second, "how long a session lives without renewal (keep it above the comets' renew-interval)")
	f.duration(&c.SessionSweep, "session-sweep", logic.DefaultSessionSweep, time.Millisecond, "how often expired sessions are purged from memory")
	f.integer(&c.SessionShards, "session-shards", logic.DefaultSessionShards, 1, 1<<16, "shards of the in-memory session store (rounded up to a power of two)")
	f.duration(&c.NodeTTL, "node-ttl", logic.DefaultNodeTTL, 10*time.Millisecond, "a comet or job silent for longer leaves the registry (keep it above their report-interval)")
	f.float(&c.RegionFactor, "region-factor", logic.DefaultRegionFactor, 1, "weight multiplier of comets in the caller's region in /goim/nodes/weighted (1: none)")
	f.str(&c.DefaultDomain, "domain", logic.DefaultDomain, "domain answered by /goim/nodes/weighted, and its only node when no comet is live")
	f.str(&c.HostDomain, "host-domain", logic.DefaultHostDomain, "suffix appended to a comet's host name for web clients in /goim/nodes/weighted")
	f.integer(&c.TCPPort, "tcp-port", logic.DefaultTCPPort, 1, 65535, "comet TCP port advertised by /goim/nodes/weighted")
	f.integer(&c.WSPort, "ws-port", logic.DefaultWSPort, 1, 65535, "comet WebSocket port advertised by /goim/nodes/weighted")
	f.integer(&c.WSSPort, "wss-port", logic.DefaultWSSPort, 1, 65535, "comet secure WebSocket port advertised by /goim/nodes/weighted")
	b := &c.Backoff
	f.int32(&b.MaxDelay, "backoff-max-delay", 300, 1, math.MaxInt32, "client reconnect backoff advertised by /goim/nodes/weighted: longest delay in seconds")
	f.int32(&b.BaseDelay, "backoff-base-delay", 3, 1, math.MaxInt32, "client reconnect backoff: first delay in seconds")
	f.float(&b.Factor, "backoff-factor", 1.8, 1, "client reconnect backoff: growth factor")
	f.float(&b.Jitter, "backoff-jitter", 0.3, 0, "client reconnect backoff: jitter fraction")
	f.duration(&c.PushTimeout, "push-timeout", logic.DefaultPushTimeout, time.Millisecond, "how long a push waits for a job to accept it before answering -500")
	lf.rpc.register(f, true, true)
}

// Name returns the full name of the logic flag n (with the prefix).
func (lf *LogicFlags) Name(n string) string { return lf.f.name(n) }

// SetAdvertisedPorts sets the client ports /goim/nodes/weighted
// advertises (0 leaves one as is). The all-in-one binary uses it to follow
// its comet's ports when the -tcp-port family is not given.
func (lf *LogicFlags) SetAdvertisedPorts(tcp, ws, wss int) {
	for _, p := range []struct {
		dst *int
		v   int
	}{{&lf.cfg.TCPPort, tcp}, {&lf.cfg.WSPort, ws}, {&lf.cfg.WSSPort, wss}} {
		if p.v > 0 {
			*p.dst = p.v
		}
	}
}

// Config returns the logic.Config the flags describe.
func (lf *LogicFlags) Config() logic.Config {
	c := lf.cfg
	c.JobClient = lf.rpc.client()
	c.RPCServer = lf.rpc.server()
	return c
}

// LogicTier is a running logic tier.
type LogicTier struct {
	l       *logic.Logic
	httpLn  net.Listener
	rpcLn   net.Listener
	started time.Time
}

// Start binds the logic listeners, makes the Logic and serves it, adding
// it to g.
func (lf *LogicFlags) Start(g *Group) (*LogicTier, error) { return lf.start(g, nil) }

// start is Start; a non-nil d makes logic reach d's own job in process
// and records the Logic in d.
func (lf *LogicFlags) start(g *Group, d *directLinks) (*LogicTier, error) {
	cfg := lf.Config()
	if d != nil {
		d.jobClient, d.logger = cfg.JobClient, g.Logger()
		cfg.DialJob = d.dialJob
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
	cfg.HTTPAddr, cfg.RPCAddr = httpLn.Addr().String(), rpcLn.Addr().String()
	l, err := logic.New(cfg, g.Logger())
	if err != nil {
		ls.close()
		return nil, err
	}
	if d != nil {
		d.logic = l
	}
	t := &LogicTier{l: l, httpLn: httpLn, rpcLn: rpcLn, started: time.Now()}
	g.Add(t)
	g.Go("logic http", func() error { return l.ServeAPI(httpLn) }, logic.ErrClosed)
	g.Go("logic rpc", func() error { return l.ServeRPC(rpcLn) }, logic.ErrClosed)
	g.Logger().Info("logic: started", "http", cfg.HTTPAddr, "rpc", cfg.RPCAddr,
		"node_ttl", cfg.NodeTTL, "heartbeat", cfg.Heartbeat, "push_timeout", cfg.PushTimeout)
	return t, nil
}

// Logic returns the running Logic.
func (t *LogicTier) Logic() *logic.Logic { return t.l }

// HTTPAddr returns the bound address of the HTTP push API.
func (t *LogicTier) HTTPAddr() net.Addr { return t.httpLn.Addr() }

// RPCAddr returns the bound address of the logic RPC service.
func (t *LogicTier) RPCAddr() net.Addr { return t.rpcLn.Addr() }

// Name implements Tier.
func (t *LogicTier) Name() string { return "logic" }

// Shutdown implements Tier: the HTTP API and the RPC service stop
// accepting and finish the requests in progress.
func (t *LogicTier) Shutdown(ctx context.Context) error { return t.l.Shutdown(ctx) }

// Close implements Tier.
func (t *LogicTier) Close() error { return t.l.Close() }

// Stats implements Tier: logic.Stats, the counters since start and the
// sessions, live nodes and rooms.
func (t *LogicTier) Stats() any { return t.l.Stats() }

// StatsAttrs implements Tier: the sizes, the accepted pushes by kind, the
// failed pushes (-500), the bad requests (-400) and the RPC calls.
func (t *LogicTier) StatsAttrs() []any {
	s := t.l.Stats()
	return []any{"sessions", s.Sessions, "comets", s.Comets, "jobs", s.Jobs, "jobs_offline", s.JobsOffline,
		"rooms", s.Rooms, "push_keys", s.Pushes.Keys, "push_mids", s.Pushes.Mids, "push_room", s.Pushes.Room,
		"push_all", s.Pushes.All, "push_failed", s.PushFailures.Total(), "bad_requests", s.BadRequests,
		"connects", s.Connects, "connects_refused", s.ConnectsRefused, "disconnects", s.Disconnects,
		"heartbeats", s.Heartbeats}
}
