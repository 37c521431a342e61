package logic

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

// Defaults of Config, applied by New to zero fields.
const (
	DefaultMaxMessageSize  = 4096
	DefaultHeartbeat       = 30 * time.Second
	DefaultHeartbeatMax    = 3
	DefaultSessionTTL      = 30 * time.Minute
	DefaultSessionSweep    = time.Minute
	DefaultSessionShards   = 64
	DefaultNodeTTL         = 10 * time.Second
	DefaultRegionFactor    = 1.6
	DefaultDomain          = "conn.goim.io"
	DefaultHostDomain      = ".goim.io"
	DefaultTCPPort         = 3101
	DefaultWSPort          = 3102
	DefaultWSSPort         = 3103
	DefaultPushTimeout     = 5 * time.Second
	DefaultRegistryRefresh = 500 * time.Millisecond
	DefaultMaxPushTargets  = 10000
	DefaultMaxHeaderBytes  = 1 << 20
)

// MaxNodes is the most nodes /nodes/weighted returns.
const MaxNodes = 5

// Backoff is the reconnect backoff advertised to clients by /nodes/weighted.
// The zero Backoff means the seed's values (300, 3, 1.8, 0.3); any other
// value is used as given.
type Backoff struct {
	MaxDelay  int32   `json:"max_delay"`  // seconds
	BaseDelay int32   `json:"base_delay"` // seconds
	Factor    float64 `json:"factor"`
	Jitter    float64 `json:"jitter"`
}

// Config configures a Logic. The zero value is usable: every zero field
// means the default written on it, applied in one place (withDefaults).
// No field takes a negative value: one makes New fail with an error
// wrapping ErrConfig that names the field. Logic listens on nothing
// itself: ServeAPI and ServeRPC take listeners made by the caller
// (package server binds them from addresses).
type Config struct {
	// MaxMessageSize is the largest push body in bytes; a larger one is a
	// -400. 0 means DefaultMaxMessageSize.
	MaxMessageSize int
	// Heartbeat is the interval at which clients send heartbeats. 0 means
	// DefaultHeartbeat.
	Heartbeat time.Duration
	// HeartbeatMax is how many heartbeats a client may miss; Connect
	// answers Heartbeat*HeartbeatMax as the connection's deadline. 0 means
	// DefaultHeartbeatMax.
	HeartbeatMax int
	// SessionTTL is how long a session lives without a Heartbeat renewal.
	// Comets must renew well within it. 0 means DefaultSessionTTL.
	SessionTTL time.Duration
	// SessionSweep is how often expired sessions are purged from memory
	// (look-ups ignore them at once). 0 means DefaultSessionSweep.
	SessionSweep time.Duration
	// SessionShards is the number of shards of the in-memory session store,
	// rounded up to a power of two. 0 means DefaultSessionShards.
	SessionShards int
	// Sessions replaces the in-memory session store (e.g. a shared store
	// for many logic nodes). nil means a new in-memory store. Logic closes
	// it on Close.
	Sessions SessionStore
	// Redis, when not empty, is the URL of the Redis server that holds
	// the sessions, the online counts and the node registry, shared by
	// every logic node of a cluster: "redis://[user:password@]host:port/db"
	// (go-redis query options such as dial_timeout and read_timeout are
	// accepted). "" means the embedded in-memory stores of a single logic
	// node. Setting both Redis and Sessions is an error.
	Redis string
	// RegistryRefresh is how often a logic node with Redis reloads its
	// snapshot of the node registry (it also reloads it right after each
	// report it takes). 0 means DefaultRegistryRefresh.
	RegistryRefresh time.Duration
	// NodeTTL is how long a node stays in the registry after its last
	// report. 0 means DefaultNodeTTL.
	NodeTTL time.Duration
	// RegionFactor multiplies the weight of nodes in the caller's region in
	// /nodes/weighted. 0 means DefaultRegionFactor; 1 disables it.
	RegionFactor float64
	// RegionOf returns the region of a /nodes/weighted caller. nil means the
	// "region" query parameter (empty: no region preference).
	RegionOf func(r *http.Request) string
	// DefaultDomain is answered as the domain, and as the only node when no
	// comet is live. "" means DefaultDomain.
	DefaultDomain string
	// HostDomain is appended to a comet's hostname to form the domain the
	// web platform gets. "" means DefaultHostDomain.
	HostDomain string
	// TCPPort, WSPort and WSSPort are the client ports advertised by
	// /nodes/weighted. 0 means DefaultTCPPort, DefaultWSPort, DefaultWSSPort;
	// negative means the comets do not offer that transport (WSS without a
	// certificate): the port is advertised as 0.
	TCPPort, WSPort, WSSPort int
	// Backoff is the reconnect backoff advertised by /nodes/weighted.
	Backoff Backoff
	// PushTimeout bounds how long a push waits for a job to accept it.
	// HTTP pushes starting within one tick (PushTimeout/50, 1 to 100 ms)
	// share one deadline, so one may get up to a tick more.
	// 0 means DefaultPushTimeout.
	PushTimeout time.Duration
	// ReceiveHook gets every application message clients send. nil means
	// messages are dropped after a debug log line. req.Body is valid only
	// during the call.
	ReceiveHook func(ctx context.Context, req *logicrpc.ReceiveReq)
	// DialJob returns the service used to push to a job node, once per node
	// (and again if its RPCAddr changes); a returned value that implements
	// io.Closer is closed when the node leaves. nil means
	// jobrpc.NewClient(node.RPCAddr, JobClient, logger).
	DialJob func(node logicrpc.NodeInfo) (jobrpc.Service, error)
	// JobClient configures the RPC clients to job nodes, and the one-off
	// client of an admin drain to a comet (the cluster's RPC settings).
	JobClient rpc.ClientConfig
	// DialComet returns the client used to drain a comet and a function
	// that closes it. Nil means an RPC client to node.RPCAddr with
	// JobClient.
	DialComet func(node logicrpc.NodeInfo) (cometrpc.Drainer, func())
	// RPCServer configures the logic RPC server.
	RPCServer rpc.ServerConfig
	// Now is the clock for session and node expiry. nil means time.Now.
	Now func() time.Time

	// TokenSecretFile names a file of token secrets, one per line (blank
	// lines and # comments ignored, each at least MinTokenSecretLen
	// bytes, taken as written). With it, clients must authenticate with an
	// HS256 JWT signed by one of them, with an exp claim (docs/client.md);
	// anything else is refused. "" means goim's unsigned JSON tokens are
	// trusted, and New logs a warning. Reload reads it again.
	TokenSecretFile string
	// APIKeysFile names a file of API keys, one per line (blank lines and
	// # comments ignored). With it, every /goim/push/* request (and, unless
	// PublicQueries, /goim/online/* and the instances lists) must carry
	// "Authorization: Bearer KEY" with one of them, else it gets HTTP 401
	// and code -401. /goim/nodes/weighted stays public. "" means no key is
	// needed. Reload reads it again.
	APIKeysFile string
	// PublicQueries leaves /goim/online/*, /goim/nodes/instances and
	// /nodes/instances open without an API key when APIKeysFile is set.
	// False means they need a key too.
	PublicQueries bool
	// MaxPushTargets is the most keys (/goim/push/keys), mids
	// (/goim/push/mids) or rooms (/goim/online/room) one request may name;
	// more is a -400 naming the parameter. 0 means DefaultMaxPushTargets.
	MaxPushTargets int
	// MaxHeaderBytes caps the request line and headers of an HTTP API
	// request (http.Server.MaxHeaderBytes); the query, with its keys and
	// mids, counts, so keep it above MaxPushTargets times the longest key.
	// 0 means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// StdHTTP serves the HTTP API with net/http's server instead of the
	// built-in HTTP/1.1 server (package internal/http1), which does less
	// work per request; for comparison. Both answer the same requests the
	// same way; see docs/operations.md for what the built-in one leaves
	// out (HTTP/2, 1xx answers, cancellation of a request's context when
	// the caller hangs up). False means the built-in server.
	StdHTTP bool
	// Handlers are mounted on the HTTP API's port beside the push API,
	// by path (http.ServeMux patterns), without an API key: /metrics,
	// /healthz and /readyz. A path of the push API must not be given (the
	// mux panics on a pattern registered twice). Nil
	// means none.
	Handlers map[string]http.Handler
}

// ErrConfig is returned by New for a Config field out of range.
var ErrConfig = errors.New("logic: bad config")

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config {
	c, _ := Config{}.withDefaults() // the zero Config has no field out of range
	return c
}

// withDefaults returns c with every zero field replaced by its default,
// or an error naming a field out of range.
func (c Config) withDefaults() (Config, error) {
	if err := c.check(); err != nil {
		return c, err
	}
	c.MaxMessageSize = cmp.Or(c.MaxMessageSize, DefaultMaxMessageSize)
	c.Heartbeat = cmp.Or(c.Heartbeat, DefaultHeartbeat)
	c.HeartbeatMax = cmp.Or(c.HeartbeatMax, DefaultHeartbeatMax)
	c.SessionTTL = cmp.Or(c.SessionTTL, DefaultSessionTTL)
	c.SessionSweep = cmp.Or(c.SessionSweep, DefaultSessionSweep)
	c.SessionShards = cmp.Or(c.SessionShards, DefaultSessionShards)
	c.NodeTTL = cmp.Or(c.NodeTTL, DefaultNodeTTL)
	c.RegionFactor = cmp.Or(c.RegionFactor, DefaultRegionFactor)
	c.DefaultDomain = cmp.Or(c.DefaultDomain, DefaultDomain)
	c.HostDomain = cmp.Or(c.HostDomain, DefaultHostDomain)
	c.TCPPort = cmp.Or(c.TCPPort, DefaultTCPPort)
	c.WSPort = cmp.Or(c.WSPort, DefaultWSPort)
	c.WSSPort = cmp.Or(c.WSSPort, DefaultWSSPort)
	c.Backoff = cmp.Or(c.Backoff, Backoff{MaxDelay: 300, BaseDelay: 3, Factor: 1.8, Jitter: 0.3})
	c.PushTimeout = cmp.Or(c.PushTimeout, DefaultPushTimeout)
	c.RegistryRefresh = cmp.Or(c.RegistryRefresh, DefaultRegistryRefresh)
	c.MaxPushTargets = cmp.Or(c.MaxPushTargets, DefaultMaxPushTargets)
	c.MaxHeaderBytes = cmp.Or(c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// check returns an error naming the first negative field.
func (c *Config) check() error {
	for _, f := range []struct {
		name string
		neg  bool
		v    any
	}{
		{"MaxMessageSize", c.MaxMessageSize < 0, c.MaxMessageSize},
		{"Heartbeat", c.Heartbeat < 0, c.Heartbeat},
		{"HeartbeatMax", c.HeartbeatMax < 0, c.HeartbeatMax},
		{"SessionTTL", c.SessionTTL < 0, c.SessionTTL},
		{"SessionSweep", c.SessionSweep < 0, c.SessionSweep},
		{"SessionShards", c.SessionShards < 0, c.SessionShards},
		{"NodeTTL", c.NodeTTL < 0, c.NodeTTL},
		{"RegionFactor", c.RegionFactor < 0, c.RegionFactor},
		{"PushTimeout", c.PushTimeout < 0, c.PushTimeout},
		{"RegistryRefresh", c.RegistryRefresh < 0, c.RegistryRefresh},
		{"MaxPushTargets", c.MaxPushTargets < 0, c.MaxPushTargets},
		{"MaxHeaderBytes", c.MaxHeaderBytes < 0, c.MaxHeaderBytes},
	} {
		if f.neg {
			return fmt.Errorf("%w: %s %v is negative", ErrConfig, f.name, f.v)
		}
	}
	return nil
}
