package cli

import (
	"log/slog"
	"math"
	"time"

	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/server"
)

// CometFlags are the flags of the comet tier.
type CometFlags struct {
	f          flagger
	standalone bool
	slow       string
	rpc        rpcFlags
	cfg        server.CometConfig // the fields set by a flag
}

// Comet registers the comet tier's flags, each name prefixed by prefix.
// standalone adds -logic, the logic RPC address to dial (the all-in-one
// binary dials its own logic).
func (a *App) Comet(prefix string, standalone bool) *CometFlags {
	cf := &CometFlags{f: flagger{fs: a.fs, prefix: prefix}, standalone: standalone}
	cf.rpc.sec = a.rpcSecurity()
	cf.registerNode()
	cf.registerListeners()
	cf.registerLimits()
	cf.registerMetrics()
	cf.rpc.register(cf.f, true, true)
	a.checks = append(a.checks, cf.check)
	return cf
}

// registerNode registers the node's identity and its link to logic.
func (cf *CometFlags) registerNode() {
	f, c := cf.f, &cf.cfg.Comet
	if cf.standalone {
		f.addrList(&cf.cfg.LogicAddr, "logic", server.DefaultLogicDialAddr, "logic RPC address to dial (logic's -rpc), or a comma-separated list of logic nodes sharing a Redis store: calls go to a live one, failing over to the next")
		f.duration(&cf.cfg.RegisterWait, "register-wait", server.DefaultRegisterWait, math.MinInt64, "how long the comet waits for its first report to logic to succeed before it accepts clients (negative: no wait)")
	}
	f.str(&c.NodeID, "node-id", "", "node id in logic's registry and sessions (empty: hostname:port of -@rpc)")
	f.list(&c.Addrs, "addrs", nil, nil, "comma-separated public client addresses (IPs or names) listed by /goim/nodes/weighted")
	f.str(&c.Region, "region", "", "region reported to logic (for region-aware balancing)")
	f.str(&c.Zone, "zone", "", "zone reported to logic")
	f.str(&c.Env, "env", "", "environment reported to logic")
	f.str(&c.Version, "node-version", "", "version string reported to logic")
	f.int32(&c.Weight, "weight", comet.DefaultWeight, 1, math.MaxInt32, "weight in logic's balancer: this node's share of new clients")
	f.boolean(&c.Offline, "offline", false, "start reported as offline: logic directs no new clients here")
	f.duration(&c.DrainDuration, "drain-duration", comet.DefaultDrainDuration, time.Millisecond, "a drain (SIGUSR1 or logic's POST /goim/admin/comets/<id>/drain) closes the clients paced over this long")
	f.duration(&c.ReportInterval, "report-interval", comet.DefaultReportInterval, time.Millisecond, "period of the report to logic (counts, liveness); keep it well under logic's node-ttl")
	f.duration(&c.LogicTimeout, "logic-timeout", comet.DefaultLogicTimeout, time.Millisecond, "bound on each call to logic (auth, renewal, disconnect, report)")
	f.duration(&c.RenewInterval, "renew-interval", comet.DefaultRenewInterval, math.MinInt64, "how often at most a heartbeat renews the session with logic (negative: never)")
}

// registerListeners registers the client and RPC listeners.
func (cf *CometFlags) registerListeners() {
	f, c := cf.f, &cf.cfg
	f.list(&c.TCPAddrs, "tcp", []string{server.DefaultCometTCPAddr}, func(s string) error { return checkAddr(s, true) },
		"comma-separated TCP client listen addresses ("+server.NoListen+": none)")
	f.addr(&c.WSAddr, "ws", server.DefaultCometWSAddr, true, "WebSocket client listen address, path -@ws-path ("+server.NoListen+": none)")
	f.addr(&c.WSSAddr, "wss", "", true, "secure WebSocket listen address (empty: "+server.DefaultCometWSSAddr+" when -@cert and -@key are set, else none)")
	f.addr(&c.TCPTLSAddr, "tcp-tls", "", true, "TCP-over-TLS client listen address (empty: none; needs -@cert and -@key)")
	f.str(&c.CertFile, "cert", "", "PEM certificate file of the TLS listeners")
	f.str(&c.KeyFile, "key", "", "PEM private key file of the TLS listeners")
	f.boolean(&c.TLSSelfSigned, "tls-self-signed", false, "development only: without -@cert, give the TLS listeners (WSS on "+server.DefaultCometWSSAddr+") a self-signed certificate made at start")
	f.addr(&c.RPCAddr, "rpc", server.DefaultCometRPCAddr, false, "listen address of the comet RPC service that jobs dial")
	f.addr(&c.Comet.RPCAdvertise, "rpc-advertise", "", false, "RPC address reported to logic, where jobs dial this comet (empty: the -@rpc address, an unspecified host becomes the host name, or 127.0.0.1 in goim)")
	f.str(&c.Comet.WSPath, "ws-path", comet.DefaultWSPath, "the only WebSocket path accepted")
	f.list(&c.Comet.AllowedOrigins, "origins", nil, nil, "comma-separated Origin values accepted on WebSocket upgrades (empty: any)")
}

// registerLimits registers sizes, queues and timeouts.
func (cf *CometFlags) registerLimits() {
	f, c := cf.f, &cf.cfg.Comet
	f.integer(&c.Buckets, "buckets", comet.DefaultBuckets, 1, 1<<16, "connection shards (rounded up to a power of two)")
	f.integer(&c.RoomWorkers, "room-workers", comet.DefaultRoomWorkers, 1, 1024, "room push workers per bucket")
	f.integer(&c.RoomQueue, "room-queue", comet.DefaultRoomQueue, 1, 1<<24, "capacity of each room worker's queue")
	f.integer(&c.ReadPollers, "read-pollers", 0, -1, 1024, "epoll pollers holding idle plain connections without a goroutine each, Linux only (0: one per 4 GOMAXPROCS; -1: none, a reader goroutine per connection)")
	f.boolean(&c.NetConns, "net-conns", false, "keep parked plain connections in the net package rather than owning their descriptors (about 0.8 KB more each; for comparison)")
	f.integer(&c.TimerShards, "timer-shards", 0, 0, 1<<16, "deadline timer shards (0: GOMAXPROCS)")
	f.integer(&c.MaxBody, "max-body", protocol.DefaultMaxBody, 1, math.MaxInt32-protocol.HeaderLen, "largest packet body accepted from a client, in bytes")
	f.integer(&c.WSMaxMessage, "ws-max-message", 0, 0, math.MaxInt32, "largest WebSocket message from a client (0: one packet, 16 + -@max-body)")
	f.duration(&c.HandshakeTimeout, "handshake-timeout", comet.DefaultHandshakeTimeout, time.Millisecond, "closes connections that do not authenticate in time")
	f.duration(&c.HeartbeatTimeout, "heartbeat-timeout", comet.DefaultHeartbeatTimeout, time.Millisecond, "heartbeat deadline when logic's auth answer gives none")
	f.integer(&c.SendQueueBytes, "send-queue-bytes", comet.DefaultSendQueueBytes, 1, 1<<30, "bytes that may wait for one connection's writer (each message counts its bytes plus 24); a message that does not fit is dropped for that client or closes it (-@slow-policy)")
	f.integer(&c.SendQueue, "send-queue", 0, 0, 1<<20, "when positive, also the most messages that may wait for one connection's writer (0: no count, the byte bound alone)")
	f.str(&cf.slow, "slow-policy", "drop", "when a connection's send queue is full: drop (the message, counted) or close (the connection)")
	f.duration(&c.WriteTimeout, "write-timeout", comet.DefaultWriteTimeout, time.Millisecond, "bound on one write to a client")
	f.integer(&c.MaxConnsPerIP, "max-conns-per-ip", comet.DefaultMaxConnsPerIP, math.MinInt32, math.MaxInt32, "open client connections allowed from one IP; one more is closed at once (negative: no limit; behind a proxy every client has its IP)")
	f.integer(&c.AuthRatePerIP, "auth-rate-per-ip", comet.DefaultAuthRatePerIP, math.MinInt32, math.MaxInt32, "auth packets one client IP may send per second; one more closes its connection (negative: no limit)")
	f.integer(&c.MsgRate, "msg-rate", comet.DefaultMsgRate, math.MinInt32, 65535, "packets one connection may send per second, auth aside (heartbeats, op 4, 12, 14, 16); one more closes it (negative: no limit)")
	f.integer(&c.MaxRooms, "max-rooms", comet.DefaultMaxRooms, math.MinInt32, 1<<16, "rooms one connection may be in at once, its primary room included (token rooms, op 20 joins); a join over it is refused with status 1, a token naming more is refused (negative: no limit)")
}

// Name returns the full name of the comet flag n (with the prefix).
func (cf *CometFlags) Name(n string) string { return cf.f.name(n) }

// check checks what a single flag cannot.
func (cf *CometFlags) check() error {
	c := &cf.cfg
	switch {
	case cf.slow != "drop" && cf.slow != "close":
		return usageErr(cf.f.name("slow-policy"), "%q is not drop or close", cf.slow)
	case (c.CertFile == "") != (c.KeyFile == ""):
		return usageErr(cf.f.name("cert"), "-%s and -%s go together", cf.f.name("cert"), cf.f.name("key"))
	case c.CertFile == "" && !c.TLSSelfSigned && c.WSSAddr != "" && c.WSSAddr != server.NoListen:
		return usageErr(cf.f.name("wss"), "needs -%s and -%s (or -%s for development)", cf.f.name("cert"), cf.f.name("key"), cf.f.name("tls-self-signed"))
	case c.CertFile == "" && !c.TLSSelfSigned && c.TCPTLSAddr != "" && c.TCPTLSAddr != server.NoListen:
		return usageErr(cf.f.name("tcp-tls"), "needs -%s and -%s (or -%s for development)", cf.f.name("cert"), cf.f.name("key"), cf.f.name("tls-self-signed"))
	case len(c.TCPAddrs) == 0:
		return usageErr(cf.f.name("tcp"), "empty (use %s for no TCP listener)", server.NoListen)
	case c.RPCAddr == server.NoListen:
		return usageErr(cf.f.name("rpc"), "a comet needs its RPC listener")
	}
	if c.CertFile != "" {
		if _, err := server.LoadTLS(c.CertFile, c.KeyFile); err != nil {
			return usageErr(cf.f.name("cert"), "%v", err)
		}
	}
	return nil
}

// Config returns the comet tier's configuration the flags describe.
func (cf *CometFlags) Config() server.CometConfig {
	c := cf.cfg
	if cf.slow == "close" {
		c.Comet.SlowPolicy = comet.SlowClose
	}
	c.Comet.RPC = cf.rpc.server()
	c.LogicClient = cf.rpc.client()
	return c
}

// Start starts the comet tier the flags describe, dialing logic at
// -logic, and adds it to g.
func (cf *CometFlags) Start(g *Group) (*CometTier, error) {
	if err := cf.checkExposure(g.Logger()); err != nil {
		return nil, err
	}
	n, err := server.StartComet(cf.Config(), g.Logger())
	if err != nil {
		return nil, err
	}
	return g.addComet(n), nil
}

// checkExposure applies the RPC startup rule to -rpc.
func (cf *CometFlags) checkExposure(logger *slog.Logger) error {
	return cf.rpc.sec.checkExposure(cf.f.name("rpc"), cf.cfg.RPCAddr, logger)
}
