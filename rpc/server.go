package rpc

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ServerConfig configures a Server. The zero value is usable.
type ServerConfig struct {
	// MaxFrameSize is the largest frame length field (header plus payload,
	// not counting the 4-byte length itself) the server accepts; a
	// connection that sends a longer frame is closed. A reply that would be
	// longer is replaced by an error reply. 0 means DefaultMaxFrameSize.
	MaxFrameSize int
	// MaxInflight is how many calls of one connection may run at once. When
	// they all run, the connection is not read until one ends. 0 means 1024.
	MaxInflight int
	// WriteTimeout bounds the writing of one batch of frames; a connection
	// whose peer does not take it in time is closed. 0 means 10s.
	WriteTimeout time.Duration
	// Secret is the cluster secret (at least MinSecretLen bytes; see
	// ValidateSecret). When set, every connection must pass the
	// challenge-response handshake described in the package doc within
	// HandshakeTimeout before any frame is read; one that fails is closed
	// and counted in AuthFailures. Nil: no handshake, as before, and a
	// peer that offers one (a client with a secret) is refused and counted
	// the same way, so a secret set on one side only never makes a link.
	// Clients must have the same secret.
	Secret []byte
	// TLSConfig, when set, makes every connection TLS: the TLS handshake
	// runs first (within HandshakeTimeout), then the secret's, bound to
	// the TLS session. ServerTLSConfig builds one from PEM files. Nil:
	// plain TCP.
	TLSConfig *tls.Config
	// HandshakeTimeout bounds the TLS and secret handshakes of a new
	// connection. 0 means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection on which nothing arrives for this
	// long while the server waits to read from it; it is counted in
	// IdleClosed. Clients ping a link they have not written to for
	// ClientConfig.PingInterval, so a healthy link never trips it: keep
	// it well above the clients' PingInterval. 0 means DefaultIdleTimeout;
	// negative means none.
	IdleTimeout time.Duration
	// MaxConns caps the connections open at once on one listener (one
	// Serve call), counting those still in their handshake; a connection
	// accepted over it is closed at once and counted in ConnsRefused. 0
	// means DefaultMaxConns; negative means no cap.
	MaxConns int
	// MaxHandshakesPerIP caps the connections from one remote IP that may
	// be in their handshake at once on one listener, so that a peer that
	// cannot authenticate holds at most this many of MaxConns (each for
	// up to HandshakeTimeout) while the other tiers' links keep coming
	// up; a connection accepted over it is closed at once and counted in
	// ConnsRefused. Tiers link with one or a few connections each. 0
	// means DefaultMaxHandshakesPerIP; negative means no cap.
	MaxHandshakesPerIP int
}

// Defaults of the ServerConfig fields left zero.
const (
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultIdleTimeout      = 30 * time.Second
	DefaultMaxConns         = 1024
	// DefaultMaxHandshakesPerIP leaves room for every tier of a machine
	// (dozens of comets in a load test) to redial at once.
	DefaultMaxHandshakesPerIP = 64
)

// Handler serves one method. req is valid only during the call. The handler
// appends its reply payload to reply, a buffer the server reuses, and
// returns the result; the handler must not keep either slice. A non-nil
// error is sent back as a RemoteError carrying err.Error() and the code of
// the *Error it wraps (see Error), if any. ctx is cancelled
// when the connection closes or the server is closed. Handlers run
// concurrently.
type Handler func(ctx context.Context, req []byte, reply []byte) ([]byte, error)

// OnewayHandler serves one one-way method. payload is valid only during the
// call. One-way handlers of one connection run one after the other, in
// arrival order, on the connection's read goroutine: they must be quick and
// must not block, or they hold up every frame behind them on that
// connection (a handler that needs to block hands the work to its own
// queue). A non-nil error is counted (ServerStats.OnewayErrors) and sent
// back to the sender in a KindOnewayError frame carrying the message's
// method and tag and the error's code and text; the sender's Client counts
// it and hands it to its ClientConfig.OnewayError.
type OnewayHandler func(ctx context.Context, payload []byte) error

// ServerStats are a Server's counters since it was made.
type ServerStats struct {
	Conns         int    // connections open now
	Accepted      uint64 // connections accepted
	FramesIn      uint64 // frames read
	FramesOut     uint64 // frames queued for writing (replies and errors)
	Writes        uint64 // writes to the connections; each carries one or more frames
	UnknownCalls  uint64 // calls of a method without handler (answered with an error)
	OnewayDropped uint64 // one-way messages of a method without handler (dropped)
	OnewayErrors  uint64 // one-way messages whose handler failed (reported to the sender)
	Panics        uint64 // handler panics recovered
	BadFrames     uint64 // connections closed for an oversized or malformed frame
	AuthFailures  uint64 // connections closed for failing the TLS or secret handshake
	ConnsRefused  uint64 // connections closed at accept: MaxConns were open on their listener, or MaxHandshakesPerIP of their IP were in their handshake
	IdleClosed    uint64 // connections closed after IdleTimeout without a byte
	BytesIn       uint64 // bytes read after the handshakes
}

// Server serves calls and one-way messages on the connections it accepts.
// Its methods are safe for concurrent use.
//
// Lock order: Server.mu, then a connection's connWriter.mu; regMu and a
// connection's deadlineMu are never held with another lock.
type Server struct {
	cfg      ServerConfig
	logger   *slog.Logger
	ctx      context.Context // parent of handler contexts; cancelled by Close
	cancel   context.CancelFunc
	callPool sync.Pool // *serverCall

	regMu   sync.Mutex // serializes Handle and HandleOneway (copy on write of the maps)
	calls   atomic.Pointer[map[uint16]Handler]
	oneways atomic.Pointer[map[uint16]OnewayHandler]

	mu        sync.Mutex // guards the fields below
	listeners map[net.Listener]struct{}
	conns     map[*serverConn]struct{}
	closing   bool          // Shutdown or Close ran: no new listeners or connections
	done      chan struct{} // closed when closing is set
	drained   chan struct{} // closed once closing is set and conns is empty
	totals    ServerStats   // counters of connections already closed

	accepted atomic.Uint64
	refused  atomic.Uint64
	wg       sync.WaitGroup // connection goroutines: serve and the writer loop
}

// NewServer returns a Server with no handlers. A nil logger means
// slog.Default().
func NewServer(cfg ServerConfig, logger *slog.Logger) *Server {
	if cfg.MaxFrameSize <= 0 {
		cfg.MaxFrameSize = DefaultMaxFrameSize
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = 1024
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxHandshakesPerIP == 0 {
		cfg.MaxHandshakesPerIP = DefaultMaxHandshakesPerIP
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{
		cfg:       cfg,
		logger:    logger,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*serverConn]struct{}),
		done:      make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.callPool.New = func() any { return &serverCall{reply: make([]byte, 0, 512)} }
	s.calls.Store(&map[uint16]Handler{})
	s.oneways.Store(&map[uint16]OnewayHandler{})
	return s
}

// Handle registers h for calls of method, replacing any earlier handler. It
// may be called while the server runs. It panics if h is nil or method is
// the reserved PingMethod.
func (s *Server) Handle(method uint16, h Handler) {
	if h == nil {
		panic("rpc: nil handler")
	}
	checkMethod(method)
	s.regMu.Lock()
	defer s.regMu.Unlock()
	m := maps.Clone(*s.calls.Load())
	m[method] = h
	s.calls.Store(&m)
}

// HandleOneway registers h for one-way messages of method, replacing any
// earlier handler. It may be called while the server runs. It panics if h
// is nil or method is the reserved PingMethod.
func (s *Server) HandleOneway(method uint16, h OnewayHandler) {
	if h == nil {
		panic("rpc: nil handler")
	}
	checkMethod(method)
	s.regMu.Lock()
	defer s.regMu.Unlock()
	m := maps.Clone(*s.oneways.Load())
	m[method] = h
	s.oneways.Store(&m)
}

func (s *Server) handler(method uint16) Handler { return (*s.calls.Load())[method] }

func (s *Server) onewayHandler(method uint16) OnewayHandler { return (*s.oneways.Load())[method] }

// Serve accepts connections on ln and serves each on its own goroutines
// until Shutdown or Close, then returns ErrServerClosed. It closes ln when
// it returns. Accept errors other than a closed listener are logged and
// retried after a growing delay (5ms to 1s). Serve may run on several
// listeners at once; MaxConns applies to each.
func (s *Server) Serve(ln net.Listener) error {
	defer ln.Close()
	if !s.addListener(ln) {
		return ErrServerClosed
	}
	defer s.removeListener(ln)
	var (
		delay    time.Duration
		open     atomic.Int64 // connections of ln now open
		refusing bool         // the last connection was refused: log only the first of a run
		slots    = newHandshakeSlots(s.cfg.MaxHandshakesPerIP)
	)
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.logger.Warn("rpc: accept failed; retrying", "addr", ln.Addr().String(), "err", err, "delay", delay)
			if !s.sleep(delay) {
				return ErrServerClosed
			}
			continue
		}
		delay = 0
		s.accepted.Add(1)
		if s.cfg.MaxConns > 0 && open.Load() >= int64(s.cfg.MaxConns) {
			s.refused.Add(1)
			nc.Close()
			if !refusing {
				s.logger.Warn("rpc: connection limit reached; refusing connections", "addr", ln.Addr().String(), "max_conns", s.cfg.MaxConns)
			}
			refusing = true
			continue
		}
		release, ok := slots.take(nc.RemoteAddr())
		if !ok {
			s.refused.Add(1)
			nc.Close()
			if !refusing {
				s.logger.Warn("rpc: too many connections of one IP in their handshake; refusing them", "addr", ln.Addr().String(),
					"remote", nc.RemoteAddr().String(), "max_handshakes_per_ip", s.cfg.MaxHandshakesPerIP)
			}
			refusing = true
			continue
		}
		refusing = false
		open.Add(1)
		s.startConn(nc, &open, release)
	}
}

// sleep waits d and reports false if the server began closing meanwhile.
func (s *Server) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

func (s *Server) addListener(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) removeListener(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, ln)
}

// startConn starts serving nc, or closes it if the server is closing.
// open counts the connections of nc's listener; the connection takes one
// off when it ends. release gives back its handshake slot.
func (s *Server) startConn(nc net.Conn, open *atomic.Int64, release func()) {
	c := newServerConn(s, nc, open, release)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		open.Add(-1)
		release()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go c.serve()
}

// removeConn forgets c and adds its counters to the totals.
func (s *Server) removeConn(c *serverConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	c.open.Add(-1)
	c.addStats(&s.totals)
	if s.closing && len(s.conns) == 0 && s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
}

// beginCloseLocked stops accepting: it marks the server closing and closes
// its listeners. It returns the first error closing them.
func (s *Server) beginCloseLocked() error {
	var err error
	if !s.closing {
		s.closing = true
		close(s.done)
		if len(s.conns) > 0 {
			s.drained = make(chan struct{})
		}
	}
	for ln := range s.listeners {
		if cerr := ln.Close(); cerr != nil && err == nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
		delete(s.listeners, ln)
	}
	return err
}

// Shutdown stops accepting, lets every connection finish the calls it is
// running (new frames are no longer read) and flush their replies, then
// closes the connections. When ctx ends first, Shutdown closes the server
// as Close does and returns ctx.Err(). One-way messages already read are
// handled; those still in flight on the network are lost.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	err := s.beginCloseLocked()
	drained := s.drained
	for c := range s.conns {
		c.drain()
	}
	s.mu.Unlock()
	if drained != nil {
		select {
		case <-drained:
		case <-ctx.Done():
			s.Close()
			return ctx.Err()
		}
	}
	s.wg.Wait()
	return err
}

// Close stops accepting, closes every connection at once and cancels the
// handlers' contexts. Calls still running get no reply. Close returns when
// the connections' goroutines have ended; handlers that ignore their
// context may still be running. It returns the first error closing a
// listener.
func (s *Server) Close() error {
	s.mu.Lock()
	err := s.beginCloseLocked()
	conns := make([]*serverConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.conn.Close()
	}
	s.cancel() // after the closes: a handler that returns once cancelled must not get its reply out
	s.wg.Wait()
	return err
}

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.totals
	for c := range s.conns {
		c.addStats(&st)
	}
	st.Conns = len(s.conns)
	st.Accepted = s.accepted.Load()
	st.ConnsRefused = s.refused.Load()
	return st
}

// isEOF reports whether err is a peer closing its side between frames.
func isEOF(err error) bool { return errors.Is(err, io.EOF) }
