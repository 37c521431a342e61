package logic

import (
	"context"
	"net/http"
	"time"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

// Defaults applied by Config for zero fields.
const (
	DefaultHTTPAddr       = ":3111"
	DefaultRPCAddr        = ":3119"
	DefaultMaxMessageSize = 4096
	DefaultHeartbeat      = 30 * time.Second
	DefaultHeartbeatMax   = 3
	DefaultSessionTTL     = 30 * time.Minute
	DefaultSessionSweep   = time.Minute
	DefaultSessionShards  = 64
	DefaultNodeTTL        = 10 * time.Second
	DefaultRegionFactor   = 1.6
	DefaultDomain         = "conn.goim.io"
	DefaultHostDomain     = ".goim.io"
	DefaultTCPPort        = 3101
	DefaultWSPort         = 3102
	DefaultWSSPort        = 3103
	DefaultPushTimeout    = 5 * time.Second
	DefaultMaxPushTargets = 10000
	DefaultMaxHeaderBytes = 1 << 20
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
// means the default written on it.
type Config struct {
	// HTTPAddr is the listen address of the HTTP push API, for callers that
	// listen on behalf of Logic (cmd/logic). "" means DefaultHTTPAddr.
	HTTPAddr string
	// RPCAddr is the listen address of the logic RPC service, for callers
	// that listen on behalf of Logic. "" means DefaultRPCAddr.
	RPCAddr string
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
	// /nodes/weighted. 0 means DefaultTCPPort, DefaultWSPort, DefaultWSSPort.
	TCPPort, WSPort, WSSPort int
	// Backoff is the reconnect backoff advertised by /nodes/weighted.
	Backoff Backoff
	// PushTimeout bounds how long a push waits for a job to accept it.
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
	// JobClient configures the RPC clients to job nodes.
	JobClient rpc.ClientConfig
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
}

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config {
	var c Config
	c.setDefaults()
	return c
}

// setDefaults replaces zero fields by their defaults.
func (c *Config) setDefaults() {
	setString(&c.HTTPAddr, DefaultHTTPAddr)
	setString(&c.RPCAddr, DefaultRPCAddr)
	setInt(&c.MaxMessageSize, DefaultMaxMessageSize)
	setDuration(&c.Heartbeat, DefaultHeartbeat)
	setInt(&c.HeartbeatMax, DefaultHeartbeatMax)
	setDuration(&c.SessionTTL, DefaultSessionTTL)
	setDuration(&c.SessionSweep, DefaultSessionSweep)
	setInt(&c.SessionShards, DefaultSessionShards)
	setDuration(&c.NodeTTL, DefaultNodeTTL)
	if c.RegionFactor == 0 {
		c.RegionFactor = DefaultRegionFactor
	}
	setString(&c.DefaultDomain, DefaultDomain)
	setString(&c.HostDomain, DefaultHostDomain)
	setInt(&c.TCPPort, DefaultTCPPort)
	setInt(&c.WSPort, DefaultWSPort)
	setInt(&c.WSSPort, DefaultWSSPort)
	if c.Backoff == (Backoff{}) {
		c.Backoff = Backoff{MaxDelay: 300, BaseDelay: 3, Factor: 1.8, Jitter: 0.3}
	}
	setDuration(&c.PushTimeout, DefaultPushTimeout)
	setInt(&c.MaxPushTargets, DefaultMaxPushTargets)
	setInt(&c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	if c.Now == nil {
		c.Now = time.Now
	}
}

func setString(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

func setInt(p *int, def int) {
	if *p <= 0 {
		*p = def
	}
}

func setDuration(p *time.Duration, def time.Duration) {
	if *p <= 0 {
		*p = def
	}
}
