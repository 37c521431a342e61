package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/protocol"
)

// Defaults of the comet flags, as comet.Config's zero values.
const (
	defaultCometTCP    = ":3101"
	defaultCometWS     = ":3102"
	defaultCometWSS    = ":3103"
	defaultCometRPC    = ":3109"
	defaultLogicDial   = "127.0.0.1:3119"
	defaultCometWeight = 10
)

// CometFlags are the flags of the comet tier.
type CometFlags struct {
	f          flagger
	standalone bool
	logicAddr  string
	slow       string
	rpc        rpcFlags
	cfg        comet.Config // the fields set by a flag
}

// Comet registers the comet tier's flags, each name prefixed by prefix.
// standalone adds -logic, the logic RPC address to dial (the all-in-one
// binary dials its own logic).
func (a *App) Comet(prefix string, standalone bool) *CometFlags {
	cf := &CometFlags{f: flagger{fs: a.fs, prefix: prefix}, standalone: standalone}
	cf.registerNode()
	cf.registerListeners()
	cf.registerLimits()
	cf.rpc.register(cf.f, true, true)
	a.checks = append(a.checks, cf.check)
	return cf
}

// registerNode registers the node's identity and its link to logic.
func (cf *CometFlags) registerNode() {
	f, c := cf.f, &cf.cfg
	if cf.standalone {
		f.addr(&cf.logicAddr, "logic", defaultLogicDial, false, "logic RPC address to dial (logic's -rpc)")
	}
	f.str(&c.NodeID, "node-id", "", "node id in logic's registry and sessions (empty: hostname:port of -@rpc)")
	f.list(&c.Addrs, "addrs", nil, nil, "comma-separated public client addresses (IPs or names) listed by /goim/nodes/weighted")
	f.str(&c.Region, "region", "", "region reported to logic (for region-aware balancing)")
	f.str(&c.Zone, "zone", "", "zone reported to logic")
	f.str(&c.Env, "env", "", "environment reported to logic")
	f.str(&c.Version, "node-version", "", "version string reported to logic")
	f.int32(&c.Weight, "weight", defaultCometWeight, 1, math.MaxInt32, "weight in logic's balancer: this node's share of new clients")
	f.boolean(&c.Offline, "offline", false, "start reported as offline: logic directs no new clients here")
	f.duration(&c.ReportInterval, "report-interval", 3*time.Second, time.Millisecond, "period of the report to logic (counts, liveness); keep it well under logic's node-ttl")
	f.duration(&c.LogicTimeout, "logic-timeout", 5*time.Second, time.Millisecond, "bound on each call to logic (auth, renewal, disconnect, report)")
	f.duration(&c.RenewInterval, "renew-interval", 10*time.Minute, math.MinInt64, "how often at most a heartbeat renews the session with logic (negative: never)")
}

// registerListeners registers the client and RPC listeners.
func (cf *CometFlags) registerListeners() {
	f, c := cf.f, &cf.cfg
	f.list(&c.TCPAddrs, "tcp", []string{defaultCometTCP}, func(s string) error { return checkAddr(s, true) },
		"comma-separated TCP client listen addresses ("+NoListen+": none)")
	f.addr(&c.WSAddr, "ws", defaultCometWS, true, "WebSocket client listen address, path -@ws-path ("+NoListen+": none)")
	f.addr(&c.WSSAddr, "wss", "", true, "secure WebSocket listen address (empty: "+defaultCometWSS+" when -@cert and -@key are set, else none)")
	f.addr(&c.TCPTLSAddr, "tcp-tls", "", true, "TCP-over-TLS client listen address (empty: none; needs -@cert and -@key)")
	f.str(&c.CertFile, "cert", "", "PEM certificate file of the TLS listeners")
	f.str(&c.KeyFile, "key", "", "PEM private key file of the TLS listeners")
	f.addr(&c.RPCAddr, "rpc", defaultCometRPC, false, "listen address of the comet RPC service that jobs dial")
	f.addr(&c.RPCAdvertise, "rpc-advertise", "", false, "RPC address reported to logic, where jobs dial this comet (empty: the -@rpc address, an unspecified host becomes the host name, or 127.0.0.1 in goim)")
	f.str(&c.WSPath, "ws-path", "/sub", "the only WebSocket path accepted")
	f.list(&c.AllowedOrigins, "origins", nil, nil, "comma-separated Origin values accepted on WebSocket upgrades (empty: any)")
}

// registerLimits registers sizes, queues and timeouts.
func (cf *CometFlags) registerLimits() {
	f, c := cf.f, &cf.cfg
	f.integer(&c.Buckets, "buckets", 32, 1, 1<<16, "connection shards (rounded up to a power of two)")
	f.integer(&c.RoomWorkers, "room-workers", 2, 1, 1024, "room push workers per bucket")
	f.integer(&c.RoomQueue, "room-queue", 1024, 1, 1<<24, "capacity of each room worker's queue")
	f.integer(&c.ReadPollers, "read-pollers", 0, -1, 1024, "epoll pollers holding idle plain connections without a goroutine each, Linux only (0: one per 4 GOMAXPROCS; -1: none, a reader goroutine per connection)")
	f.integer(&c.TimerShards, "timer-shards", 0, 0, 1<<16, "deadline timer shards (0: GOMAXPROCS)")
	f.integer(&c.MaxBody, "max-body", protocol.DefaultMaxBody, 1, math.MaxInt32-protocol.HeaderLen, "largest packet body accepted from a client, in bytes")
	f.integer(&c.WSMaxMessage, "ws-max-message", 0, 0, math.MaxInt32, "largest WebSocket message from a client (0: one packet, 16 + -@max-body)")
	f.duration(&c.HandshakeTimeout, "handshake-timeout", 5*time.Second, time.Millisecond, "closes connections that do not authenticate in time")
	f.duration(&c.HeartbeatTimeout, "heartbeat-timeout", 8*time.Minute, time.Millisecond, "heartbeat deadline when logic's auth answer gives none")
	f.integer(&c.SendQueue, "send-queue", 64, 1, 1<<20, "pushed messages that may wait for one connection's writer")
	f.str(&cf.slow, "slow-policy", "drop", "when a connection's send queue is full: drop (the message, counted) or close (the connection)")
	f.duration(&c.WriteTimeout, "write-timeout", 10*time.Second, time.Millisecond, "bound on one write to a client")
}

// LogicAddr returns the logic RPC address of -logic (standalone only).
func (cf *CometFlags) LogicAddr() string { return cf.logicAddr }

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
	case c.CertFile == "" && c.WSSAddr != "" && c.WSSAddr != NoListen:
		return usageErr(cf.f.name("wss"), "needs -%s and -%s", cf.f.name("cert"), cf.f.name("key"))
	case c.CertFile == "" && c.TCPTLSAddr != "" && c.TCPTLSAddr != NoListen:
		return usageErr(cf.f.name("tcp-tls"), "needs -%s and -%s", cf.f.name("cert"), cf.f.name("key"))
	case len(c.TCPAddrs) == 0:
		return usageErr(cf.f.name("tcp"), "empty (use %s for no TCP listener)", NoListen)
	case c.RPCAddr == NoListen:
		return usageErr(cf.f.name("rpc"), "a comet needs its RPC listener")
	}
	if c.CertFile != "" {
		if _, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile); err != nil {
			return usageErr(cf.f.name("cert"), "load certificate: %v", err)
		}
	}
	return nil
}

// Config returns the comet.Config the flags describe, its certificate
// loaded. Listen addresses are as given; Start binds them.
func (cf *CometFlags) Config() (comet.Config, error) {
	c := cf.cfg
	c.TCPAddrs = tcpAddrs(c.TCPAddrs)
	if cf.slow == "close" {
		c.SlowPolicy = comet.SlowClose
	}
	c.RPC = cf.rpc.server()
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return c, usageErr(cf.f.name("cert"), "load certificate: %v", err)
		}
		c.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if c.WSSAddr == "" {
			c.WSSAddr = defaultCometWSS
		}
	}
	return c, nil
}

// tcpAddrs drops NoListen from a -tcp list; it returns []string{NoListen}
// when nothing is left (comet.Config's "none").
func tcpAddrs(list []string) []string {
	var out []string
	for _, a := range list {
		if a != NoListen {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return []string{NoListen}
	}
	return out
}

// errNoLogic is returned by Start without a logic address.
var errNoLogic = errors.New("cli: comet without a logic address")

// Start binds the comet's listeners, dials logic at logicAddr, makes the
// Comet and serves it, adding it to g. loopback advertises the RPC
// listener on 127.0.0.1 when its host is unspecified (the all-in-one
// binary) instead of the host name.
func (cf *CometFlags) Start(g *Group, logicAddr string, loopback bool) (*CometTier, error) {
	return cf.start(g, logicAddr, loopback, nil)
}

// start is Start; a non-nil d gives the comet d's Logic in process
// instead of an RPC client, and records the Comet and its advertised RPC
// address in d.
func (cf *CometFlags) start(g *Group, logicAddr string, loopback bool, d *directLinks) (*CometTier, error) {
	if logicAddr == "" {
		return nil, errNoLogic
	}
	cfg, err := cf.Config()
	if err != nil {
		return nil, err
	}
	t := &CometTier{logicAddr: logicAddr}
	if err := t.listen(&cfg); err != nil {
		return nil, err
	}
	rpcAddr := t.bound.RPC
	cfg.RPCAddr = rpcAddr.String()
	if cfg.NodeID == "" {
		cfg.NodeID = defaultNodeID(rpcAddr)
	}
	if cfg.RPCAdvertise == "" {
		cfg.RPCAdvertise = advertise(rpcAddr, loopback)
	}
	var svc logicrpc.Service
	if d != nil {
		svc, t.logicAddr = d.logic, "in process"
	} else {
		t.logic = logicrpc.NewClient(logicAddr, cf.rpc.client(), g.Logger())
		svc = t.logic
	}
	t.cm, err = comet.New(cfg, svc, g.Logger())
	if err != nil {
		t.lns.close()
		t.closeLogic()
		return nil, fmt.Errorf("comet: %w", err)
	}
	if d != nil {
		d.comet, d.cometAddr = t.cm, cfg.RPCAdvertise
	}
	g.Add(t)
	t.serve(g)
	g.Logger().Info("comet: started", t.startAttrs(cfg)...)
	return t, nil
}
