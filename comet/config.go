package comet

import (
	"crypto/tls"
	"os"
	"runtime"
	"time"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/rpc"
)

// NoListen as a listen address turns that listener off in Start.
const NoListen = "-"

// SlowPolicy says what happens to a connection whose send queue is full.
type SlowPolicy uint8

// Slow-reader policies.
const (
	// SlowDrop drops the message for that connection and counts it
	// (Stats.Drops[DropQueueFull]); the connection stays.
	SlowDrop SlowPolicy = iota
	// SlowClose closes the connection (CloseSlow).
	SlowClose
)

// Config configures a Comet. Every field says what its zero value means;
// the defaults are applied in one place (withDefaults), so the zero Config
// is a usable comet on goim's ports. Listen addresses matter only to Start;
// ServeTCP, ServeWS and ServeRPC take listeners made by the caller.
type Config struct {
	// NodeID names this comet to logic (the "server" of its sessions).
	// Empty means the host name.
	NodeID string
	// TCPAddrs are the plain TCP client listeners. Empty means [":3101"];
	// []string{NoListen} means none.
	TCPAddrs []string
	// WSAddr is the plain WebSocket listener (path WSPath). Empty means
	// ":3102"; NoListen means none.
	WSAddr string
	// WSSAddr is the WebSocket-over-TLS listener. Empty means ":3103" when a
	// certificate is configured (CertFile and KeyFile, or TLSConfig), else
	// none; NoListen means none.
	WSSAddr string
	// TCPTLSAddr is the TCP-over-TLS listener. Empty or NoListen means none;
	// it needs a certificate.
	TCPTLSAddr string
	// CertFile and KeyFile are the PEM certificate and key of the TLS
	// listeners. Empty means no TLS unless TLSConfig is set.
	CertFile, KeyFile string
	// TLSConfig, when not nil, is used for the TLS listeners instead of
	// CertFile and KeyFile.
	TLSConfig *tls.Config
	// RPCAddr is the listener of the comet RPC service (for job). Empty
	// means ":3109"; NoListen means none.
	RPCAddr string
	// RPCAdvertise is the RPC address reported to logic, where jobs dial
	// this comet. Empty means the address Start bound for RPCAddr (or
	// RPCAddr itself), with the host name in place of an empty or
	// unspecified host.
	RPCAdvertise string
	// RPC configures the RPC server. The zero value is usable.
	RPC rpc.ServerConfig
	// Addrs are the public client addresses (IPs or host names) reported to
	// logic for its node list. Empty means none.
	Addrs []string
	// Region, Zone, Env and Version describe the node to logic. Empty means
	// empty.
	Region, Zone, Env, Version string
	// Weight is the node's weight in logic's balancer. Zero means 10.
	Weight int32
	// Offline reports the node as offline to logic from the start (see
	// SetOffline). False means online.
	Offline bool

	// Buckets is the number of connection shards, rounded up to a power of
	// two. Zero means 32.
	Buckets int
	// RoomWorkers is the number of room push workers per bucket. Zero
	// means 2.
	RoomWorkers int
	// RoomQueue is the capacity of each room worker's queue; a push waits
	// when it is full. Zero means 1024.
	RoomQueue int
	// TimerShards is the number of deadline timer shards, rounded up to a
	// power of two. Zero means GOMAXPROCS.
	TimerShards int

	// MaxBody is the largest packet body accepted from a client. Zero means
	// 4096 (protocol.DefaultMaxBody).
	MaxBody int
	// HandshakeTimeout closes connections that did not authenticate in
	// time. Zero means 5s.
	HandshakeTimeout time.Duration
	// HeartbeatTimeout is the heartbeat deadline used when logic's auth
	// answer gives none. Zero means 8 minutes (goim's 4-minute interval
	// times two).
	HeartbeatTimeout time.Duration
	// RenewInterval is how often, at most, a heartbeat also renews the
	// session with logic. Zero means 10 minutes; negative means never.
	RenewInterval time.Duration
	// SendQueueBytes bounds what may wait for one connection's writer:
	// the bytes of the waiting messages plus 24 per message. A message
	// that does not fit is dropped for that connection (or the connection
	// closed, see SlowPolicy); one always fits an empty queue. Nothing is
	// allocated ahead: an idle connection holds no queue. Zero means
	// 1 MiB (docs/operations.md says why).
	SendQueueBytes int
	// SendQueue, when positive, also caps the number of messages that may
	// wait for one connection's writer. Zero means no cap but
	// SendQueueBytes.
	SendQueue int
	// SlowPolicy is what happens when a message does not fit a send queue.
	// Zero means SlowDrop.
	SlowPolicy SlowPolicy
	// WriteTimeout bounds one write to a client. Zero means 10s.
	WriteTimeout time.Duration
	// LogicTimeout bounds each call to logic (auth, heartbeat renewal,
	// disconnect, report). Zero means 5s.
	LogicTimeout time.Duration
	// ReportInterval is the period of the report to logic. Zero means 3s;
	// negative means no reports.
	ReportInterval time.Duration

	// WSPath is the only WebSocket path accepted. Empty means "/sub".
	WSPath string
	// AllowedOrigins lists the Origin values accepted on WebSocket
	// upgrades. Empty means any origin.
	AllowedOrigins []string
	// WSMaxMessage caps one WebSocket message from a client. Zero means
	// 16 + MaxBody (one packet).
	WSMaxMessage int
}

// Defaults used by withDefaults.
const (
	defaultTCPAddr          = ":3101"
	defaultWSAddr           = ":3102"
	defaultWSSAddr          = ":3103"
	defaultRPCAddr          = ":3109"
	defaultWeight           = 10
	defaultBuckets          = 32
	defaultRoomWorkers      = 2
	defaultRoomQueue        = 1024
	defaultHandshakeTimeout = 5 * time.Second
	defaultHeartbeatTimeout = 8 * time.Minute
	defaultRenewInterval    = 10 * time.Minute
	defaultSendQueueBytes   = 1 << 20
	maxSendQueueBytes       = 1 << 30 // conn.queued is an int32
	defaultWriteTimeout     = 10 * time.Second
	defaultLogicTimeout     = 5 * time.Second
	defaultReportInterval   = 3 * time.Second
	defaultWSPath           = "/sub"
)

// withDefaults returns cfg with every zero field replaced by its default.
func (cfg Config) withDefaults() Config {
	hostname, _ := os.Hostname()
	if cfg.NodeID == "" {
		cfg.NodeID = hostname
		if cfg.NodeID == "" {
			cfg.NodeID = "comet"
		}
	}
	if len(cfg.TCPAddrs) == 0 {
		cfg.TCPAddrs = []string{defaultTCPAddr}
	}
	cfg.WSAddr = orDefault(cfg.WSAddr, defaultWSAddr)
	if cfg.WSSAddr == "" && cfg.hasTLS() {
		cfg.WSSAddr = defaultWSSAddr
	}
	cfg.RPCAddr = orDefault(cfg.RPCAddr, defaultRPCAddr)
	cfg.Weight = orDefault(cfg.Weight, defaultWeight)
	cfg.Buckets = powerOfTwo(orDefault(cfg.Buckets, defaultBuckets))
	cfg.RoomWorkers = orDefault(cfg.RoomWorkers, defaultRoomWorkers)
	cfg.RoomQueue = orDefault(cfg.RoomQueue, defaultRoomQueue)
	cfg.TimerShards = powerOfTwo(orDefault(cfg.TimerShards, runtime.GOMAXPROCS(0)))
	cfg.MaxBody = orDefault(cfg.MaxBody, protocol.DefaultMaxBody)
	cfg.HandshakeTimeout = orDefault(cfg.HandshakeTimeout, defaultHandshakeTimeout)
	cfg.HeartbeatTimeout = orDefault(cfg.HeartbeatTimeout, defaultHeartbeatTimeout)
	cfg.RenewInterval = orDefault(cfg.RenewInterval, defaultRenewInterval)
	cfg.SendQueueBytes = min(orDefault(cfg.SendQueueBytes, defaultSendQueueBytes), maxSendQueueBytes)
	cfg.WriteTimeout = orDefault(cfg.WriteTimeout, defaultWriteTimeout)
	cfg.LogicTimeout = orDefault(cfg.LogicTimeout, defaultLogicTimeout)
	cfg.ReportInterval = orDefault(cfg.ReportInterval, defaultReportInterval)
	cfg.WSPath = orDefault(cfg.WSPath, defaultWSPath)
	cfg.WSMaxMessage = orDefault(cfg.WSMaxMessage, protocol.HeaderLen+cfg.MaxBody)
	return cfg
}

// hasTLS reports whether a certificate is configured.
func (cfg *Config) hasTLS() bool {
	return cfg.TLSConfig != nil || (cfg.CertFile != "" && cfg.KeyFile != "")
}

// orDefault returns v, or def when v is the zero value (a negative value
// is kept: for durations it means "off").
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// powerOfTwo rounds n up to a power of two (at least 1).
func powerOfTwo(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}
