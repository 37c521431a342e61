package http1

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of the sweeper's tick: an eighth of the shortest timeout, clamped.
const (
	minTick = 5 * time.Millisecond
	maxTick = 250 * time.Millisecond
)

// headSlack is what a request head may hold beyond MaxHeaderBytes, as
// net/http allows.
const headSlack = 4096

// Server serves HTTP/1.1 to Handler. Set its fields before the first
// Serve and leave them; the zero value of each field is documented on it.
// Serve, Shutdown and Close may be called from any goroutine.
type Server struct {
	// Handler answers every request; it is required.
	Handler http.Handler
	// ReadHeaderTimeout bounds the request line and headers, from the
	// first byte of the request. Zero means ReadTimeout.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the whole request, body included, from its first
	// byte. Zero means no limit.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the first byte of a request to
	// the end of the answer's write; an answer due later is not written
	// and the connection is closed. Zero means no limit.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection. Zero means ReadTimeout.
	IdleTimeout time.Duration
	// MaxHeaderBytes caps the request line and headers (plus 4 KB of
	// slack, as net/http); a longer head is answered 431. Zero means
	// http.DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// Logger receives accept failures and handler panics. Nil discards.
	Logger *slog.Logger

	closing atomic.Bool  // set by Shutdown and Close; never cleared
	now     atomic.Int64 // coarse clock: nanoseconds since epoch, set each tick
	date    atomic.Pointer[[]byte]

	// mu guards listeners, conns, sweeping, epoch and done's closing.
	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	sweeping  bool          // the sweeper goroutine runs
	epoch     time.Time     // origin of now
	done      chan struct{} // closed when closing is set
}

// Serve accepts connections on ln and serves each on its own goroutine
// until Shutdown or Close, then returns http.ErrServerClosed. It closes
// ln. A failed Accept is retried with a growing delay (5 ms to 1 s)
// unless the listener was closed.
func (s *Server) Serve(ln net.Listener) error {
	if !s.addListener(ln) {
		ln.Close()
		return http.ErrServerClosed
	}
	defer s.removeListener(ln)
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return http.ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.logger().Warn("http1: accept failed; retrying", "addr", ln.Addr().String(), "err", err, "delay", delay)
			if !s.sleep(delay) {
				return http.ErrServerClosed
			}
			continue
		}
		delay = 0
		c := newConn(s, nc)
		if !s.addConn(c) {
			nc.Close()
			return http.ErrServerClosed
		}
		go c.serve()
	}
}

// Shutdown stops accepting, closes idle connections and waits for the
// others to finish their request and close, or for ctx to end (it then
// returns ctx's error and leaves them to finish). Answers written during
// Shutdown carry "Connection: close".
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.beginClose()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !s.closeIdle() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return err
}

// Close stops accepting and ends every connection at once, requests in
// progress included: their callers read the end at once, and each socket
// is closed when its connection's goroutine returns (see conn.abort).
func (s *Server) Close() error {
	err := s.beginClose()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.state.Store(stateClosed)
		c.abort()
	}
	return err
}

// beginClose sets closing and closes the listeners; it returns the first
// listener's close error.
func (s *Server) beginClose() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if !s.closing.Swap(true) {
		close(s.done)
	}
	var err error
	for ln := range s.listeners {
		if e := ln.Close(); e != nil && err == nil && !errors.Is(e, net.ErrClosed) {
			err = e
		}
		delete(s.listeners, ln)
	}
	return err
}

// closeIdle ends the connections waiting for a request and reports
// whether none is left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			c.abort()
		}
	}
	return len(s.conns) == 0
}

// init makes the maps, channel and clock on first use. s.mu is held.
func (s *Server) init() {
	if s.conns != nil {
		return
	}
	s.listeners = make(map[net.Listener]struct{})
	s.conns = make(map[*conn]struct{})
	s.done = make(chan struct{})
	s.epoch = time.Now()
	s.setDate(s.epoch)
}

// addListener records ln and starts the sweeper; false once closing.
func (s *Server) addListener(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if s.closing.Load() {
		return false
	}
	s.listeners[ln] = struct{}{}
	if !s.sweeping {
		s.sweeping = true
		go s.sweep(s.tick())
	}
	return true
}

// removeListener forgets ln.
func (s *Server) removeListener(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, ln)
}

// addConn records c; false once closing.
func (s *Server) addConn(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// removeConn forgets c.
func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// sleep waits d or until closing; false when closing.
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

// tick is the sweeper's period: an eighth of the shortest timeout set,
// between minTick and maxTick.
func (s *Server) tick() time.Duration {
	t := maxTick
	for _, d := range []time.Duration{s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout} {
		if d > 0 {
			t = min(t, d/8)
		}
	}
	return max(t, minTick)
}

// sweep advances the clock and the Date header every tick and closes the
// connections that overstay a timeout. It ends once the server is closing
// and holds no listener or connection.
func (s *Server) sweep(tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for range t.C {
		wall := time.Now()
		s.mu.Lock()
		now := int64(wall.Sub(s.epoch))
		s.now.Store(now)
		if s.closing.Load() && len(s.conns) == 0 && len(s.listeners) == 0 {
			s.sweeping = false
			s.mu.Unlock()
			return
		}
		for c := range s.conns {
			if c.overdue(now) {
				c.state.Store(stateClosed)
				c.abort()
			}
		}
		s.mu.Unlock()
		s.setDate(wall)
	}
}

// setDate sets the Date header line answers carry, when its second has
// changed.
func (s *Server) setDate(t time.Time) {
	line := "Date: " + t.UTC().Format(http.TimeFormat) + "\r\n"
	if p := s.date.Load(); p != nil && string(*p) == line {
		return
	}
	b := []byte(line)
	s.date.Store(&b)
}

// limit is the timeout of phase p.
func (s *Server) limit(p phase) time.Duration {
	switch p {
	case phaseIdle:
		return cmp.Or(s.IdleTimeout, s.ReadTimeout)
	case phaseHeader:
		return cmp.Or(s.ReadHeaderTimeout, s.ReadTimeout)
	case phaseBody:
		return s.ReadTimeout
	case phaseWrite:
		return s.WriteTimeout
	}
	return 0
}

// headLimit is the most bytes a request head may hold.
func (s *Server) headLimit() int {
	return cmp.Or(s.MaxHeaderBytes, http.DefaultMaxHeaderBytes) + headSlack
}

// logger is Logger, or one that discards.
func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
