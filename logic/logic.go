// Package logic is the logic tier: the HTTP push API of goim, the session
// store (key and mid -> comet), the registry of live comet and job nodes,
// the weighted node balancer, the cluster-wide online counts, and the
// logic RPC service comets and jobs call.
//
// A Logic serves two listeners, like net/http.Server: ServeAPI (the HTTP
// push API) and ServeRPC (logicrpc). Shutdown or Close stops both and every
// background goroutine.
package logic

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/goimx/goim/internal/http1"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

// Timeouts of the HTTP server.
const (
	httpReadHeaderTimeout = 10 * time.Second
	httpReadTimeout       = 30 * time.Second
	httpWriteTimeout      = 30 * time.Second
	httpIdleTimeout       = 2 * time.Minute
)

// Logic is one logic node. Its methods are safe for concurrent use.
type Logic struct {
	cfg      Config
	log      *slog.Logger
	epoch    int64 // ReportReply.Epoch, fixed per process
	sessions SessionStore
	reg      *registry // the registry every read uses
	nodes    nodeStore // where reports go; keeps reg up to date
	jobs     *jobPool
	scratch  sync.Pool // *pushScratch
	handler  http.Handler
	httpSrv  apiServer
	rpcSrv   *rpc.Server
	stats    counters
	secrets  secrets // token secrets and API keys

	deadlines *pushDeadlines // the shared push timeout contexts
	jsonType  []string       // the Content-Type header value of push answers; never modified

	stopOnce sync.Once
	stop     chan struct{} // closed to stop the sweeper
	done     chan struct{} // closed when the sweeper returned
}

// sweeper is implemented by session stores that purge expired sessions
// on demand (MemoryStore).
type sweeper interface{ Sweep() int }

// New returns a Logic for cfg and starts its background sweeper; call
// Shutdown or Close to stop it. A nil logger means slog.Default(). A
// Config field out of range is an error wrapping ErrConfig.
func New(cfg Config, logger *slog.Logger) (*Logic, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	l := &Logic{
		cfg:   cfg,
		log:   logger,
		epoch: newEpoch(),
		reg:   newRegistry(cfg.NodeTTL),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	if err := l.secrets.load(&cfg, logger); err != nil {
		return nil, err
	}
	if err := l.openStores(); err != nil {
		return nil, err
	}
	dial := cfg.DialJob
	if dial == nil {
		dial = func(n logicrpc.NodeInfo) (jobrpc.Service, error) {
			return jobrpc.NewClient(n.RPCAddr, cfg.JobClient, logger), nil
		}
	}
	l.jobs = newJobPool(dial, logger)
	l.deadlines = newPushDeadlines(cfg.PushTimeout)
	l.jsonType = []string{contentType}
	l.handler = l.newHandler()
	l.httpSrv = l.newHTTPServer()
	l.rpcSrv = rpc.NewServer(cfg.RPCServer, logger)
	logicrpc.Register(l.rpcSrv, l)
	go l.sweep()
	return l, nil
}

// apiServer serves the HTTP API: *http.Server or *http1.Server.
type apiServer interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
	Close() error
}

// newHTTPServer makes the server of the HTTP API: the built-in HTTP/1.1
// server, or net/http's with Config.StdHTTP; same handler, timeouts and
// head limit.
func (l *Logic) newHTTPServer() apiServer {
	if l.cfg.StdHTTP {
		return &http.Server{
			Handler:           l.handler,
			ReadHeaderTimeout: httpReadHeaderTimeout,
			ReadTimeout:       httpReadTimeout,
			WriteTimeout:      httpWriteTimeout,
			IdleTimeout:       httpIdleTimeout,
			MaxHeaderBytes:    l.cfg.MaxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(l.log.Handler(), slog.LevelWarn),
		}
	}
	return &http1.Server{
		Handler:           l.handler,
		ReadHeaderTimeout: httpReadHeaderTimeout,
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    l.cfg.MaxHeaderBytes,
		Logger:            l.log,
	}
}

// redisStartTimeout bounds the first load of the node registry from Redis
// in New; Redis being down then does not keep Logic from starting.
const redisStartTimeout = 2 * time.Second

// openStores sets up the session store and the node store: in Redis when
// Config.Redis is set, in memory otherwise.
func (l *Logic) openStores() error {
	cfg := &l.cfg
	if cfg.Redis == "" {
		l.sessions = cfg.Sessions
		if l.sessions == nil {
			l.sessions = NewMemoryStore(MemoryStoreConfig{TTL: cfg.SessionTTL, Shards: cfg.SessionShards, Now: cfg.Now})
		}
		l.nodes = memoryNodes{reg: l.reg}
		return nil
	}
	if cfg.Sessions != nil {
		return errors.New("logic: Config.Redis and Config.Sessions are both set")
	}
	c, err := dialRedis(cfg.Redis, &l.stats.store)
	if err != nil {
		return err
	}
	l.sessions = newRedisStore(c, cfg.SessionTTL)
	l.nodes = newRedisNodes(c, l.reg, cfg.NodeTTL)
	ctx, cancel := context.WithTimeout(context.Background(), redisStartTimeout)
	defer cancel()
	if err := l.nodes.refresh(ctx, cfg.Now()); err != nil {
		l.log.Warn("logic: redis not available yet; pushes fail until it is", "redis", c.addr, "err", err)
	}
	return nil
}

// Config returns the configuration in use, defaults filled in.
func (l *Logic) Config() Config { return l.cfg }

// Handler returns the HTTP push API, for serving it on another server or
// testing it with httptest.
func (l *Logic) Handler() http.Handler { return l.handler }

// Epoch returns the value this process answers in ReportReply.Epoch with
// the in-memory stores; with Redis, replies carry the store's epoch (see
// Report).
func (l *Logic) Epoch() int64 { return l.epoch }

// ServeAPI serves the HTTP push API on ln until Shutdown or Close, then
// returns ErrServerClosed. It closes ln.
func (l *Logic) ServeAPI(ln net.Listener) error {
	err := l.httpSrv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return ErrServerClosed
	}
	return err
}

// ServeRPC serves the logic RPC service on ln until Shutdown or Close,
// then returns ErrServerClosed.
func (l *Logic) ServeRPC(ln net.Listener) error {
	err := l.rpcSrv.Serve(ln)
	if errors.Is(err, rpc.ErrServerClosed) {
		return ErrServerClosed
	}
	return err
}

// Shutdown stops accepting, waits for in-flight HTTP requests and RPC
// calls to finish (or ctx to end), then stops the sweeper and closes the
// job clients and the session store. It returns the first error.
func (l *Logic) Shutdown(ctx context.Context) error {
	err := l.httpSrv.Shutdown(ctx)
	if e := l.rpcSrv.Shutdown(ctx); err == nil {
		err = e
	}
	if e := l.stopBackground(); err == nil {
		err = e
	}
	return err
}

// Close closes the listeners and connections at once, stops the sweeper
// and closes the job clients and the session store.
func (l *Logic) Close() error {
	err := l.httpSrv.Close()
	if e := l.rpcSrv.Close(); err == nil {
		err = e
	}
	if e := l.stopBackground(); err == nil {
		err = e
	}
	return err
}

// stopBackground stops the sweeper and closes job clients and the session
// store, once.
func (l *Logic) stopBackground() error {
	var err error
	l.stopOnce.Do(func() {
		close(l.stop)
		<-l.done
		l.deadlines.close()
		l.jobs.close()
		err = l.sessions.Close()
	})
	return err
}

// sweep periodically closes the clients of departed job nodes, purges
// expired sessions and, with Redis, reloads the node registry.
func (l *Logic) sweep() {
	defer close(l.done)
	nodes := time.NewTicker(max(l.cfg.NodeTTL/2, 10*time.Millisecond))
	defer nodes.Stop()
	sessions := time.NewTicker(l.cfg.SessionSweep)
	defer sessions.Stop()
	var refresh <-chan time.Time // nil (never) for the memory node store
	if _, mem := l.nodes.(memoryNodes); !mem {
		t := time.NewTicker(l.cfg.RegistryRefresh)
		defer t.Stop()
		refresh = t.C
	}
	for {
		select {
		case <-l.stop:
			return
		case <-nodes.C:
			l.jobs.retain(l.reg.liveJobIDs(l.cfg.Now()))
		case <-refresh:
			l.refreshNodes()
		case <-sessions.C:
			if s, ok := l.sessions.(sweeper); ok {
				if n := s.Sweep(); n > 0 {
					l.log.Debug("logic: expired sessions", "count", n)
				}
			}
		}
	}
}

// refreshNodes reloads the node registry from the shared store, logging
// when it starts and stops failing.
func (l *Logic) refreshNodes() {
	ctx, cancel := context.WithTimeout(context.Background(), max(l.cfg.NodeTTL/2, l.cfg.RegistryRefresh))
	defer cancel()
	failing := l.nodes.err() != nil
	err := l.nodes.refresh(ctx, l.cfg.Now())
	switch {
	case err != nil && !failing:
		l.log.Error("logic: node registry refresh failed", "err", err)
	case err == nil && failing:
		l.log.Info("logic: node registry refresh works again")
	}
}

// newEpoch returns a random positive epoch.
func newEpoch() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	e := int64(binary.BigEndian.Uint64(b[:]) & math.MaxInt64)
	if e == 0 {
		e = 1
	}
	return e
}
