package comet

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/goimx/goim/bufio"
	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/metrics"
	"github.com/goimx/goim/rpc"
	"github.com/goimx/goim/timer"
	"github.com/goimx/goim/websocket"
)

// ErrServerClosed is returned by the Serve methods after Shutdown or
// Close, and by pushes made while the comet stops. It is the comet
// contract's cometrpc.ErrServerClosed, so callers over the RPC match it too.
var ErrServerClosed = cometrpc.ErrServerClosed

// ErrNoLogic is returned by New without a logic service.
var ErrNoLogic = errors.New("comet: no logic service")

// Comet is the connection tier: it holds client connections (TCP and
// WebSocket, plain or TLS) in buckets and rooms, authenticates them
// through logic, and serves job's pushes (it implements
// cometrpc.Service, in process and over the RPC).
//
// Lock order (docs/locking.md): reportMu, then bucket.mu, then conn.mu;
// conn.wmu, then conn.mu or the websocket's write lock, and conn.wmu never
// under reportMu or bucket.mu; Comet.mu, the ipCounter shards' locks and
// the timers' locks are leaves. Nothing blocks (a socket write, a logic
// call, a channel send) while bucket.mu or conn.mu is held.
type Comet struct {
	cfg         Config
	logic       logicrpc.Service
	logger      *slog.Logger
	buckets     []*bucket
	bucketMask  uint64
	timers      *timer.Sharded
	polls       *pollers    // nil when every connection keeps a reader goroutine
	pool        *bufio.Pool // packet bodies, replies, upgrade scratch
	queues      sync.Pool   // *sendQueue
	authCalls   sync.Pool   // *authCall
	rawWriters  sync.Pool   // *rawWriter, for the writer goroutines and replies (writePacketLocked)
	sockWaits   sync.Pool   // *sockWait, for the waits of the sockets the comet owns
	ips         ipCounter   // authenticated connections per IP
	ipConns     ipCounter   // open connections per IP, for Config.MaxConnsPerIP
	authRate    rateLimiter // auths per IP per second, for Config.AuthRatePerIP
	rpc         *rpc.Server
	wsHandshake websocket.HandshakeConfig
	hostname    string

	ctx    context.Context // parent of logic calls; cancelled by Close
	cancel context.CancelFunc
	calls  *logicDeadlines // contexts of the connections' logic calls, children of ctx
	disc   *disconnects    // tells logic of closed connections
	done   chan struct{}   // closed when background goroutines must stop

	reportNow  chan struct{} // capacity 1: asks the report loop for a report now
	registered chan struct{} // closed by the report loop after its first successful report

	connID  atomic.Uint64
	closing atomic.Bool
	offline atomic.Bool
	// reported is whether the last report to logic succeeded (Stats.Reported).
	reported atomic.Bool
	// latency is the end-to-end push latency (Stats.PushLatency).
	latency *metrics.Histogram
	// draining is set once by the first Drain.
	draining atomic.Bool
	// counts holds the online count per room from the last report: the
	// cluster-wide count when logic knows it, else this node's.
	counts atomic.Pointer[map[string]int32]

	accepted, pushes, keyMisses, badBatches atomic.Uint64
	tcpConns, wsConns                       atomic.Int64
	closes                                  [numCloseReasons]atomic.Uint64

	// mu guards listeners, rpcAddr and stopped.
	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	rpcAddr   net.Addr // of the first listener given to ServeRPC
	stopped   bool

	wg sync.WaitGroup // accept loops, connection readers and writers
	bg sync.WaitGroup // room workers, reporter, paced broadcasts

	// reportMu serializes reports and guards epoch and resend.
	reportMu sync.Mutex
	epoch    int64 // logic's epoch at the last report
	resend   bool  // sessions must be re-sent to logic
}

// New returns a comet configured by cfg that authenticates through logic.
// It starts the deadline timers and (unless ReportInterval is negative)
// the report loop, but no listener: use the Serve methods. A room
// worker starts with the first push that needs it. A nil logger means slog.Default(). A Config field out of
// range is an error wrapping ErrConfig.
func New(cfg Config, logic logicrpc.Service, logger *slog.Logger) (*Comet, error) {
	if logic == nil {
		return nil, ErrNoLogic
	}
	if logger == nil {
		logger = slog.Default()
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cm := &Comet{
		cfg:        cfg,
		logic:      logic,
		logger:     logger,
		bucketMask: uint64(cfg.Buckets - 1),
		timers:     timer.NewSharded(cfg.TimerShards, 1024),
		pool:       bufio.NewPool(bufio.PoolConfig{}),
		done:       make(chan struct{}),
		reportNow:  make(chan struct{}, 1),
		registered: make(chan struct{}),
		listeners:  make(map[net.Listener]struct{}),
		latency:    metrics.NewHistogram(metrics.LatencyBounds()),
		wsHandshake: websocket.HandshakeConfig{
			Path:           cfg.WSPath,
			AllowedOrigins: cfg.AllowedOrigins,
		},
	}
	cm.hostname = hostnameOr(cfg.NodeID)
	cm.ctx, cm.cancel = context.WithCancel(context.Background())
	cm.calls = newLogicDeadlines(cm.ctx, cfg.LogicTimeout)
	cm.queues.New = func() any { return new(sendQueue) }
	cm.authCalls.New = func() any { return new(authCall) }
	cm.rawWriters.New = func() any { return newRawWriter() }
	cm.sockWaits.New = func() any { return newSockWait() }
	cm.connID.Store(uint64(time.Now().UnixNano())) // ids stay unique across restarts
	cm.offline.Store(cfg.Offline)
	polls, err := newPollers(cfg.ReadPollers)
	if err != nil {
		cm.timers.Stop()
		return nil, err
	}
	cm.polls = polls
	cm.startPollers()
	cm.rpc = rpc.NewServer(cfg.RPC, logger)
	cometrpc.Register(cm.rpc, cm)
	cm.buckets = make([]*bucket, cfg.Buckets)
	for i := range cm.buckets {
		cm.buckets[i] = newBucket(cm, cfg.RoomWorkers, cfg.RoomQueue)
	}
	cm.disc = newDisconnects(cm)
	if cfg.ReportInterval > 0 {
		cm.bg.Add(1)
		go cm.reportLoop()
	}
	return cm, nil
}

// startPollers starts the goroutine of each poller, counted in cm.bg.
func (cm *Comet) startPollers() {
	if cm.polls == nil {
		return
	}
	for _, p := range cm.polls.ps {
		cm.bg.Add(1)
		go func() {
			defer cm.bg.Done()
			if err := p.run(); err != nil {
				cm.logger.Error("comet: poller stopped; its connections are woken only by their deadlines", "err", err)
			}
		}()
	}
}

// stopPollers makes the poller goroutines return; every connection has
// finished by then.
func (cm *Comet) stopPollers() {
	if cm.polls == nil {
		return
	}
	for _, p := range cm.polls.ps {
		p.stopWait()
	}
}

// Config returns the configuration in effect, defaults applied.
func (cm *Comet) Config() Config { return cm.cfg }

// SetOffline sets the offline flag reported to logic, which then stops
// directing new clients here (for draining a node before maintenance).
func (cm *Comet) SetOffline(offline bool) { cm.offline.Store(offline) }

// ServeTCP accepts TCP client connections (plain, or TLS when ln is a TLS
// listener) until Shutdown or Close, then returns ErrServerClosed. It
// closes ln when it returns.
func (cm *Comet) ServeTCP(ln net.Listener) error { return cm.serve(ln, false) }

// ServeWS accepts WebSocket client connections (plain, or TLS when ln is
// a TLS listener) on path Config.WSPath until Shutdown or Close, then
// returns ErrServerClosed. It closes ln when it returns.
func (cm *Comet) ServeWS(ln net.Listener) error { return cm.serve(ln, true) }

// ServeRPC serves the comet RPC service (cometrpc) for jobs on ln until
// Shutdown or Close, then returns ErrServerClosed. The first listener's
// address is the advertised one unless Config.RPCAdvertise is set.
func (cm *Comet) ServeRPC(ln net.Listener) error {
	cm.mu.Lock()
	if cm.rpcAddr == nil {
		cm.rpcAddr = ln.Addr()
	}
	cm.mu.Unlock()
	err := cm.rpc.Serve(ln)
	if errors.Is(err, rpc.ErrServerClosed) {
		return ErrServerClosed
	}
	return err
}

// bucketByKey returns the bucket of connection key.
func (cm *Comet) bucketByKey(key string) *bucket {
	return cm.buckets[xxhash.Sum64String(key)&cm.bucketMask]
}

// bucketByKeyBytes is bucketByKey for a key held as bytes: the same
// bucket, without making the key a string.
func (cm *Comet) bucketByKeyBytes(key []byte) *bucket {
	return cm.buckets[xxhash.Sum64(key)&cm.bucketMask]
}

// bucketByID returns the bucket that tracks connection id during its
// handshake.
func (cm *Comet) bucketByID(id uint64) *bucket {
	return cm.buckets[id&cm.bucketMask]
}

// getQueue returns an empty send queue.
func (cm *Comet) getQueue() *sendQueue { return cm.queues.Get().(*sendQueue) }

// putQueue empties q and returns it to the pool, unless a burst grew it
// past maxPooledQueue messages (the garbage collector takes it then).
func (cm *Comet) putQueue(q *sendQueue) {
	if q == nil || cap(q.msgs) > maxPooledQueue {
		return
	}
	clear(q.msgs[:cap(q.msgs)])
	q.msgs = q.msgs[:0]
	cm.queues.Put(q)
}

// maxPooledQueue is the largest send queue, in messages, kept for reuse.
const maxPooledQueue = 1024

// added counts the newly registered c.
func (cm *Comet) added(c *conn) {
	if c.ws != nil {
		cm.wsConns.Add(1)
	} else {
		cm.tcpConns.Add(1)
	}
	cm.ips.add(c.remoteIP())
}

// removed uncounts the registered c.
func (cm *Comet) removed(c *conn) {
	if c.ws != nil {
		cm.wsConns.Add(-1)
	} else {
		cm.tcpConns.Add(-1)
	}
	cm.ips.del(c.remoteIP())
}

// online returns the online count of room id for a heartbeat reply: from
// the last report when it knew the room, else counted now on this node.
func (cm *Comet) online(id string) int32 {
	if id == "" {
		return 0
	}
	if m := cm.counts.Load(); m != nil {
		if n, ok := (*m)[id]; ok {
			return n
		}
	}
	var n int32
	for _, b := range cm.buckets {
		n += b.roomOnline(id)
	}
	return n
}

// goBackground runs fn on a goroutine counted in cm.bg, unless the comet
// is stopping.
func (cm *Comet) goBackground(fn func()) bool {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	if cm.stopped {
		return false
	}
	cm.bg.Add(1)
	go func() {
		defer cm.bg.Done()
		fn()
	}()
	return true
}

// hostnameOr returns the host name, or def when it is unknown.
func hostnameOr(def string) string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return def
}
