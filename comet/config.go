package comet

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/rpc"
)

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
// is usable. A negative value means "off" only where a field says so; any
// other negative value makes New fail with an error wrapping ErrConfig
// that names the field. The comet listens on nothing itself: ServeTCP,
// ServeWS and ServeRPC take listeners made by the caller (package server
// binds them from addresses).
type Config struct {
	// NodeID names this comet to logic (the "server" of its sessions).
	// Empty means the host name.
	NodeID string
	// RPCAdvertise is the RPC address reported to logic, where jobs dial
	// this comet. Empty means the address of the listener given to
	// ServeRPC, with the host name in place of an unspecified host; a
	// comet that never serves its RPC and has none reports no address.
	RPCAdvertise string
	// RPC configures the RPC server. The zero value is usable.
	RPC rpc.ServerConfig
	// Addrs are the public client addresses (IPs or host names) reported to
	// logic for its node list. Empty means none.
	Addrs []string
	// Region, Zone, Env and Version describe the node to logic. Empty means
	// empty.
	Region, Zone, Env, Version string
	// Weight is the node's weight in logic's balancer. Zero means
	// DefaultWeight.
	Weight int32
	// Offline reports the node as offline to logic from the start (see
	// SetOffline). False means online.
	Offline bool

	// Buckets is the number of connection shards, rounded up to a power of
	// two. Zero means DefaultBuckets.
	Buckets int
	// RoomWorkers is the number of room push workers per bucket. Zero
	// means DefaultRoomWorkers.
	RoomWorkers int
	// RoomQueue is the capacity of each room worker's queue; a push waits
	// when it is full. Zero means DefaultRoomQueue.
	RoomQueue int
	// ReadPollers is the number of poller goroutines (Linux only), each
	// with its own epoll set, that hold idle plain TCP and WebSocket
	// connections without a goroutine each; connections are spread over
	// them by id. Zero means one per 4 GOMAXPROCS, at least 1; negative
	// means none: every connection keeps a reader goroutine, as TLS
	// connections and every connection on other platforms do.
	ReadPollers int
	// NetConns keeps plain TCP and WebSocket connections in the net
	// package even where they park in pollers. By default (false) the
	// comet then owns their descriptors (accept4, reads and writes with
	// system calls, waits through the pollers), which saves about 0.8 KB
	// per connection: the runtime's poll descriptor, the netFD and both
	// addresses. It is the switch for comparing the two.
	NetConns bool
	// TimerShards is the number of deadline timer shards, rounded up to a
	// power of two. Zero means GOMAXPROCS.
	TimerShards int

	// MaxBody is the largest packet body accepted from a client. Zero means
	// 4096 (protocol.DefaultMaxBody).
	MaxBody int
	// HandshakeTimeout closes connections that did not authenticate in
	// time. Zero means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// HeartbeatTimeout is the heartbeat deadline used when logic's auth
	// answer gives none. Zero means DefaultHeartbeatTimeout (goim's
	// 4-minute interval times two).
	HeartbeatTimeout time.Duration
	// RenewInterval is how often, at most, a heartbeat also renews the
	// session with logic. Zero means DefaultRenewInterval; negative means
	// never.
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
	// WriteTimeout bounds one write to a client. Zero means
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
	// LogicTimeout bounds each call to logic (auth, heartbeat renewal,
	// disconnect, report). A connection's calls share one deadline per
	// tick of LogicTimeout/50 (1 to 100 ms), so they may run up to one
	// tick longer. Zero means DefaultLogicTimeout.
	LogicTimeout time.Duration
	// ReportInterval is the period of the report to logic. Zero means
	// DefaultReportInterval; negative means no reports.
	ReportInterval time.Duration

	// WSPath is the only WebSocket path accepted. Empty means DefaultWSPath.
	WSPath string
	// AllowedOrigins lists the Origin values accepted on WebSocket
	// upgrades. Empty means any origin.
	AllowedOrigins []string
	// WSMaxMessage caps one WebSocket message from a client. Zero means
	// 16 + MaxBody (one packet).
	WSMaxMessage int

	// MaxConnsPerIP caps the open connections (authenticated or not) from
	// one client IP; one more is closed at once (CloseIPLimit). Zero means
	// 1024; negative means no limit. Behind a proxy every client has the
	// proxy's IP: raise it or turn it off there.
	MaxConnsPerIP int
	// AuthRatePerIP caps the auth packets one client IP may send per
	// second, counted before logic is asked; one more closes its
	// connection (CloseAuthRate). Zero means 128; negative means no limit.
	AuthRatePerIP int
	// MsgRate caps the packets a connection may send per second, every
	// op but auth counted (heartbeat, send, change room, sub, unsub, and
	// packets sent before auth); one more closes it (CloseMsgRate). Zero
	// means 64; negative means no limit; at most 65535.
	MsgRate int

	// DrainDuration spreads the closes of a drain (Drain) over this
	// long. Zero means DefaultDrainDuration.
	DrainDuration time.Duration
	// MaxRooms caps the rooms one connection is in: its primary room
	// (the token's room_id, op 12), which is always allowed, and up to
	// MaxRooms-1 additional ones (the token's rooms, op 20). A join over
	// it is answered with protocol.RoomLimit; a token naming more is
	// refused (CloseTooManyRooms). Zero means DefaultMaxRooms; negative
	// means no limit.
	MaxRooms int
}

// ErrConfig is returned by New for a Config field out of range.
var ErrConfig = errors.New("comet: bad config")

// Defaults of Config, applied by New to zero fields.
const (
	DefaultWeight           = 10
	DefaultBuckets          = 32
	DefaultRoomWorkers      = 2
	DefaultRoomQueue        = 1024
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultHeartbeatTimeout = 8 * time.Minute
	DefaultRenewInterval    = 10 * time.Minute
	DefaultSendQueueBytes   = 1 << 20
	maxSendQueueBytes       = 1 << 30 // conn.queued is an int32
	DefaultWriteTimeout     = 10 * time.Second
	DefaultLogicTimeout     = 5 * time.Second
	DefaultReportInterval   = 3 * time.Second
	DefaultWSPath           = "/sub"
	DefaultMaxConnsPerIP    = 1024
	DefaultAuthRatePerIP    = 128
	DefaultMsgRate          = 64
	DefaultDrainDuration    = 60 * time.Second
	DefaultMaxRooms         = 16
	maxMsgRate              = math.MaxUint16 // conn.msgs counts to it
)

// withDefaults returns cfg with every zero field replaced by its default,
// or an error naming a field out of range.
func (cfg Config) withDefaults() (Config, error) {
	if err := cfg.check(); err != nil {
		return cfg, err
	}
	if cfg.NodeID == "" {
		cfg.NodeID = hostnameOr("comet")
	}
	cfg.Weight = cmp.Or(cfg.Weight, DefaultWeight)
	cfg.Buckets = powerOfTwo(cmp.Or(cfg.Buckets, DefaultBuckets))
	cfg.RoomWorkers = cmp.Or(cfg.RoomWorkers, DefaultRoomWorkers)
	cfg.RoomQueue = cmp.Or(cfg.RoomQueue, DefaultRoomQueue)
	cfg.ReadPollers = cmp.Or(cfg.ReadPollers, (runtime.GOMAXPROCS(0)+3)/4)
	cfg.TimerShards = powerOfTwo(cmp.Or(cfg.TimerShards, runtime.GOMAXPROCS(0)))
	cfg.MaxBody = cmp.Or(cfg.MaxBody, protocol.DefaultMaxBody)
	cfg.HandshakeTimeout = cmp.Or(cfg.HandshakeTimeout, DefaultHandshakeTimeout)
	cfg.HeartbeatTimeout = cmp.Or(cfg.HeartbeatTimeout, DefaultHeartbeatTimeout)
	cfg.RenewInterval = cmp.Or(cfg.RenewInterval, DefaultRenewInterval)
	cfg.SendQueueBytes = min(cmp.Or(cfg.SendQueueBytes, DefaultSendQueueBytes), maxSendQueueBytes)
	cfg.WriteTimeout = cmp.Or(cfg.WriteTimeout, DefaultWriteTimeout)
	cfg.LogicTimeout = cmp.Or(cfg.LogicTimeout, DefaultLogicTimeout)
	cfg.ReportInterval = cmp.Or(cfg.ReportInterval, DefaultReportInterval)
	cfg.WSPath = cmp.Or(cfg.WSPath, DefaultWSPath)
	cfg.WSMaxMessage = cmp.Or(cfg.WSMaxMessage, protocol.HeaderLen+cfg.MaxBody)
	cfg.MaxConnsPerIP = cmp.Or(cfg.MaxConnsPerIP, DefaultMaxConnsPerIP)
	cfg.AuthRatePerIP = cmp.Or(cfg.AuthRatePerIP, DefaultAuthRatePerIP)
	cfg.DrainDuration = cmp.Or(cfg.DrainDuration, DefaultDrainDuration)
	cfg.MsgRate = min(cmp.Or(cfg.MsgRate, DefaultMsgRate), maxMsgRate)
	cfg.MaxRooms = cmp.Or(cfg.MaxRooms, DefaultMaxRooms)
	return cfg, nil
}

// check returns an error naming the first field that is negative where
// negative has no meaning.
func (cfg *Config) check() error {
	for _, f := range []struct {
		name string
		neg  bool
		v    any
	}{
		{"Weight", cfg.Weight < 0, cfg.Weight},
		{"Buckets", cfg.Buckets < 0, cfg.Buckets},
		{"RoomWorkers", cfg.RoomWorkers < 0, cfg.RoomWorkers},
		{"RoomQueue", cfg.RoomQueue < 0, cfg.RoomQueue},
		{"TimerShards", cfg.TimerShards < 0, cfg.TimerShards},
		{"MaxBody", cfg.MaxBody < 0, cfg.MaxBody},
		{"HandshakeTimeout", cfg.HandshakeTimeout < 0, cfg.HandshakeTimeout},
		{"HeartbeatTimeout", cfg.HeartbeatTimeout < 0, cfg.HeartbeatTimeout},
		{"SendQueue", cfg.SendQueue < 0, cfg.SendQueue},
		{"SendQueueBytes", cfg.SendQueueBytes < 0, cfg.SendQueueBytes},
		{"WriteTimeout", cfg.WriteTimeout < 0, cfg.WriteTimeout},
		{"LogicTimeout", cfg.LogicTimeout < 0, cfg.LogicTimeout},
		{"WSMaxMessage", cfg.WSMaxMessage < 0, cfg.WSMaxMessage},
		{"DrainDuration", cfg.DrainDuration < 0, cfg.DrainDuration},
	} {
		if f.neg {
			return fmt.Errorf("%w: %s %v is negative", ErrConfig, f.name, f.v)
		}
	}
	return nil
}

// powerOfTwo rounds n up to a power of two (at least 1).
func powerOfTwo(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}
