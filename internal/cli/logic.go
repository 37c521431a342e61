package cli

import (
	"log/slog"
	"math"
	"time"

	"github.com/goimx/goim/logic"
	"github.com/goimx/goim/server"
)

// LogicFlags are the flags of the logic tier.
type LogicFlags struct {
	f   flagger
	rpc rpcFlags
	cfg server.LogicConfig // the fields set by a flag
}

// Logic registers the logic tier's flags, each name prefixed by prefix.
func (a *App) Logic(prefix string) *LogicFlags {
	lf := &LogicFlags{f: flagger{fs: a.fs, prefix: prefix}}
	lf.rpc.sec = a.rpcSecurity()
	lf.register()
	return lf
}

// register registers the flags with the defaults of logic.Config.
func (lf *LogicFlags) register() {
	f, c := lf.f, &lf.cfg.Logic
	f.addr(&lf.cfg.HTTPAddr, "http", server.DefaultLogicHTTPAddr, false, "listen address of the HTTP push API (goim's push, online and nodes endpoints)")
	f.addr(&lf.cfg.RPCAddr, "rpc", server.DefaultLogicRPCAddr, false, "listen address of the logic RPC service that comets and jobs dial")
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
	f.integer(&c.TCPPort, "tcp-port", logic.DefaultTCPPort, 0, 65535, "comet TCP port advertised by /goim/nodes/weighted (0: not offered)")
	f.integer(&c.WSPort, "ws-port", logic.DefaultWSPort, 0, 65535, "comet WebSocket port advertised by /goim/nodes/weighted (0: not offered)")
	f.integer(&c.WSSPort, "wss-port", logic.DefaultWSSPort, 0, 65535, "comet secure WebSocket port advertised by /goim/nodes/weighted (0: not offered, the comets have no certificate)")
	b := &c.Backoff
	f.int32(&b.MaxDelay, "backoff-max-delay", 300, 1, math.MaxInt32, "client reconnect backoff advertised by /goim/nodes/weighted: longest delay in seconds")
	f.int32(&b.BaseDelay, "backoff-base-delay", 3, 1, math.MaxInt32, "client reconnect backoff: first delay in seconds")
	f.float(&b.Factor, "backoff-factor", 1.8, 1, "client reconnect backoff: growth factor")
	f.float(&b.Jitter, "backoff-jitter", 0.3, 0, "client reconnect backoff: jitter fraction")
	f.str(&c.Redis, "redis", "", "Redis URL (redis://[user:password@]host:port/db) that holds sessions, online counts and the node registry, shared by every logic node of a cluster; empty keeps them in this process's memory (one logic node)")
	f.duration(&c.RegistryRefresh, "registry-refresh", logic.DefaultRegistryRefresh, time.Millisecond, "with -@redis: how often this node reloads its copy of the node registry from Redis (also right after each report it takes)")
	f.duration(&c.PushTimeout, "push-timeout", logic.DefaultPushTimeout, time.Millisecond, "how long a push waits for a job to accept it before answering -500")
	f.str(&c.TokenSecretFile, "token-secret-file", "", "file of HS256 secrets, one per line, that sign client tokens: logic then accepts only signed tokens (empty: goim's unsigned JSON tokens, with a warning); reloaded on SIGHUP")
	f.str(&c.APIKeysFile, "api-keys-file", "", "file of API keys, one per line: every /goim/push/* request (and the queries, unless -@public-queries) needs Authorization: Bearer KEY, else 401 (empty: no keys); reloaded on SIGHUP")
	f.boolean(&c.PublicQueries, "public-queries", false, "with -@api-keys-file: leave /goim/online/* and the instances lists open without a key (/goim/nodes/weighted is always open)")
	f.integer(&c.MaxPushTargets, "max-push-targets", logic.DefaultMaxPushTargets, 1, math.MaxInt32, "most keys, mids or rooms in one HTTP API request; more is a -400")
	f.integer(&c.MaxHeaderBytes, "max-header-bytes", logic.DefaultMaxHeaderBytes, 4096, math.MaxInt32, "largest request line plus headers of an HTTP API request, query included (keep it above -@max-push-targets times the longest key)")
	f.boolean(&c.StdHTTP, "std-http", false, "serve the HTTP API with net/http's server instead of the built-in HTTP/1.1 server (for comparison; the built-in one does less work per request)")
	lf.rpc.register(f, true, true)
}

// Name returns the full name of the logic flag n (with the prefix).
func (lf *LogicFlags) Name(n string) string { return lf.f.name(n) }

// Config returns the logic tier's configuration the flags describe.
func (lf *LogicFlags) Config() server.LogicConfig {
	c := lf.cfg
	for _, p := range []*int{&c.Logic.TCPPort, &c.Logic.WSPort, &c.Logic.WSSPort} {
		if *p == 0 {
			*p = -1 // not offered: advertised as 0 (logic.Config's zero means the default)
		}
	}
	c.Logic.JobClient = lf.rpc.client()
	c.Logic.RPCServer = lf.rpc.server()
	return c
}

// Start starts the logic tier the flags describe and adds it to g.
func (lf *LogicFlags) Start(g *Group) (*LogicTier, error) {
	if err := lf.checkExposure(g.Logger()); err != nil {
		return nil, err
	}
	n, err := server.StartLogic(lf.Config(), g.Logger())
	if err != nil {
		return nil, err
	}
	return g.addLogic(n), nil
}

// checkExposure applies the RPC startup rule to -rpc.
func (lf *LogicFlags) checkExposure(logger *slog.Logger) error {
	return lf.rpc.sec.checkExposure(lf.f.name("rpc"), lf.cfg.RPCAddr, logger)
}

// LogicTier is a running logic tier, as a Group drives it.
type LogicTier struct {
	*server.LogicNode
}

// addLogic adds the started logic n to g.
func (g *Group) addLogic(n *server.LogicNode) *LogicTier {
	t := &LogicTier{n}
	g.Add(t)
	g.watch(t.Name(), n.Err())
	return t
}

// Name implements Tier.
func (t *LogicTier) Name() string { return "logic" }

// Reload implements Reloader: logic's token secrets and API keys.
func (t *LogicTier) Reload() error { return t.Logic().Reload() }

// Stats implements Tier: logic.Stats, the counters since start and the
// sessions, live nodes and rooms.
func (t *LogicTier) Stats() any { return t.Logic().Stats() }

// StatsAttrs implements Tier: the sizes, the accepted pushes by kind, the
// failed pushes (-500), the bad requests (-400, over a limit among them),
// the requests without a valid API key (401), the RPC calls, and the RPC
// server's counters.
func (t *LogicTier) StatsAttrs() []any {
	s := t.Logic().Stats()
	return append([]any{"sessions", s.Sessions, "comets", s.Comets, "jobs", s.Jobs, "jobs_offline", s.JobsOffline,
		"rooms", s.Rooms, "push_keys", s.Pushes.Keys, "push_mids", s.Pushes.Mids, "push_room", s.Pushes.Room,
		"push_all", s.Pushes.All, "push_failed", s.PushFailures.Total(), "bad_requests", s.BadRequests,
		"connects", s.Connects, "connects_refused", s.ConnectsRefused, "disconnects", s.Disconnects,
		"heartbeats", s.Heartbeats, "store_ops", s.StoreOps, "store_errors", s.StoreErrors,
		"unauthorized", s.Unauthorized, "over_limit", s.OverLimit}, rpcStatsAttrs(t.Logic().RPCStats())...)
}
