package rpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// readBufferSize is the read buffer of a connection; payloads up to it
	// are handled without a copy.
	readBufferSize = 64 << 10
	// maxIdleWorkers is how many call goroutines of one connection wait
	// for the next call instead of exiting.
	maxIdleWorkers = 16
	// maxKeptBuf is the largest request or reply buffer a pooled call keeps.
	maxKeptBuf = 64 << 10
)

// serverCall is one call handed from a connection's read loop to a worker.
// It is pooled by the Server; req and reply are reused.
type serverCall struct {
	h      Handler
	method uint16
	seq    uint32
	req    []byte // a copy of the request payload
	reply  []byte // the buffer handed to the handler
}

// serverConn is one accepted connection. Its read loop (serve) first runs
// the TLS and secret handshakes, then reads frames, runs one-way handlers
// itself and hands calls to worker goroutines; the connWriter batches what
// the workers write.
type serverConn struct {
	s       *Server
	conn    net.Conn      // as accepted: Close closes it
	rw      net.Conn      // what frames travel on: conn, or the TLS connection over it
	open    *atomic.Int64 // connections open on the listener that accepted this one
	release func()        // gives back the connection's handshake slot (MaxHandshakesPerIP)
	logger  *slog.Logger
	fr      frameReader // made once the handshakes passed
	w       *connWriter
	ctx     context.Context // the handlers' context; cancelled when the connection ends
	cancel  context.CancelFunc
	sem     chan struct{}    // one token per running call, capacity MaxInflight
	work    chan *serverCall // hands a call to an idle worker (unbuffered)
	stop    chan struct{}    // closed when the connection ended: idle workers return
	idle    atomic.Int32     // workers waiting on work

	deadlineMu sync.Mutex // serializes drain's read deadline with the idle deadline's moves
	draining   bool       // Shutdown asked the read loop to stop; guarded by deadlineMu

	framesIn      atomic.Uint64
	bytesIn       atomic.Uint64
	unknownCalls  atomic.Uint64
	onewayDropped atomic.Uint64
	onewayErrors  atomic.Uint64
	panics        atomic.Uint64
	errBuf        []byte // the read loop's buffer for one-way error reports
	badFrame      atomic.Bool
	authFailed    atomic.Bool
	idleClosed    atomic.Bool
}

func newServerConn(s *Server, nc net.Conn, open *atomic.Int64, release func()) *serverConn {
	c := &serverConn{
		s:       s,
		conn:    nc,
		rw:      nc,
		open:    open,
		release: release,
		logger:  s.logger.With("remote", nc.RemoteAddr().String()),
		w:       newConnWriter(nc, s.cfg.WriteTimeout),
		sem:     make(chan struct{}, s.cfg.MaxInflight),
		work:    make(chan *serverCall),
		stop:    make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	return c
}

// serve runs the handshakes and the read loop, then tears the connection
// down: after a drain requested by Shutdown it first waits for the running
// calls and the flush of their replies.
func (c *serverConn) serve() {
	defer c.s.wg.Done()
	err := c.handshake()
	c.release()
	if err == nil {
		c.startIO()
		err = c.readLoop()
	}
	graceful := c.isDraining() && errors.Is(err, os.ErrDeadlineExceeded)
	if graceful {
		c.waitCalls()
		c.w.waitIdle()
	}
	c.cancel()
	c.conn.Close()
	c.w.close(fmt.Errorf("%w: connection closed", ErrConnLost))
	close(c.stop)
	c.logClose(err, graceful)
	c.s.removeConn(c)
}

// startIO makes the frame reader and starts the writer loop, once the
// handshakes passed.
func (c *serverConn) startIO() {
	c.fr = frameReader{r: bufio.NewReaderSize(&idleReader{c: c}, readBufferSize), maxFrame: c.s.cfg.MaxFrameSize}
	c.w.conn = c.rw // before the loop starts and before any frame is read
	c.s.wg.Add(1)
	go func() {
		defer c.s.wg.Done()
		c.w.loop()
	}()
}

// logClose logs once why the connection ended.
func (c *serverConn) logClose(err error, graceful bool) {
	switch {
	case graceful:
		c.logger.Debug("rpc: connection closed by shutdown")
	case errors.Is(err, ErrAuth):
		c.authFailed.Store(true)
		c.logger.Warn("rpc: closing connection: authentication failed", "err", err)
	case errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrMalformedFrame):
		c.badFrame.Store(true)
		c.logger.Warn("rpc: closing connection: bad frame", "err", err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.idleClosed.Store(true)
		c.logger.Info("rpc: closing idle connection", "idle_timeout", c.s.cfg.IdleTimeout)
	case isEOF(err):
		c.logger.Debug("rpc: connection closed by peer")
	default:
		c.logger.Debug("rpc: connection closed", "err", err)
	}
}

// drain asks the read loop to stop reading (Shutdown). Frames already
// buffered are still handled.
func (c *serverConn) drain() {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	c.draining = true
	c.conn.SetReadDeadline(time.Now())
}

func (c *serverConn) isDraining() bool {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	return c.draining
}

// waitCalls waits until no call runs, or the connection's context ends.
func (c *serverConn) waitCalls() {
	for range cap(c.sem) {
		select {
		case c.sem <- struct{}{}:
		case <-c.ctx.Done():
			return
		}
	}
}

// readLoop reads and dispatches frames until an error.
func (c *serverConn) readLoop() error {
	for {
		h, p, err := c.fr.next()
		if err != nil {
			return c.unexpectedHello(err)
		}
		c.framesIn.Add(1)
		switch h.kind {
		case KindCall:
			if err := c.dispatch(h, p); err != nil {
				return err
			}
		case KindOneway:
			c.oneway(h, p)
		default:
			return fmt.Errorf("%w: kind %d sent to a server", ErrMalformedFrame, h.kind)
		}
	}
}

// dispatch hands a call to a worker, waiting while MaxInflight calls run.
// A call of an unknown method is answered at once with an error.
func (c *serverConn) dispatch(h header, req []byte) error {
	handler := c.s.handler(h.method)
	if handler == nil {
		c.unknownCalls.Add(1)
		eh := header{kind: KindError, method: h.method, seq: h.seq}
		c.w.writeFrame(c.ctx, eh, appendErrorPayload(nil, unknownMethodError(h.method)), true) // a failed write ends the read loop too
		return nil
	}
	select {
	case c.sem <- struct{}{}:
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
	sc := c.s.callPool.Get().(*serverCall)
	sc.h, sc.method, sc.seq = handler, h.method, h.seq
	sc.req = append(sc.req[:0], req...)
	select {
	case c.work <- sc:
	default:
		go c.worker(sc)
	}
	return nil
}

// worker runs sc, then waits for more calls while fewer than
// maxIdleWorkers others wait, until the connection ends.
func (c *serverConn) worker(sc *serverCall) {
	for {
		c.run(sc)
		if c.idle.Add(1) > maxIdleWorkers {
			c.idle.Add(-1)
			return
		}
		select {
		case sc = <-c.work:
			c.idle.Add(-1)
		case <-c.stop:
			c.idle.Add(-1)
			return
		}
	}
}

// run calls the handler, queues its reply or error and recycles sc.
func (c *serverConn) run(sc *serverCall) {
	reply, err := c.invoke(sc)
	h := header{kind: KindReply, method: sc.method, seq: sc.seq}
	if err == nil && headerLen+len(reply) > c.s.cfg.MaxFrameSize {
		err = fmt.Errorf("%w: reply of %d bytes to method %d", ErrFrameTooLarge, len(reply), sc.method)
	}
	if err != nil {
		h.kind = KindError
		reply = appendErrorPayload(sc.reply[:0], err)
		sc.reply = reply[:0] // ours: grown from our buffer by this append
	}
	c.w.writeFrame(c.ctx, h, reply, true) // a failed write ends the read loop too
	sc.keepReply(reply)
	sc.h = nil
	if cap(sc.req) > maxKeptBuf {
		sc.req = nil
	}
	c.s.callPool.Put(sc)
	<-c.sem
}

// keepReply keeps the handler's result as the next reply buffer when it is
// the buffer handed to the handler; otherwise (a slice the handler may own)
// it only makes sure the next buffer has room for a reply of that size.
func (sc *serverCall) keepReply(reply []byte) {
	switch {
	case cap(reply) > 0 && cap(sc.reply) > 0 && &reply[:1][0] == &sc.reply[:1][0]:
		sc.reply = reply[:0]
	case len(reply) > cap(sc.reply) && len(reply) <= maxKeptBuf:
		sc.reply = make([]byte, 0, len(reply))
	}
	if cap(sc.reply) > maxKeptBuf {
		sc.reply = make([]byte, 0, 512)
	}
}

// invoke calls the handler, turning a panic into an error.
func (c *serverConn) invoke(sc *serverCall) (reply []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			c.panics.Add(1)
			c.logger.Error("rpc: handler panic", "method", sc.method, "panic", v, "stack", string(debug.Stack()))
			reply, err = nil, fmt.Errorf("%w: method %d", ErrHandlerPanic, sc.method)
		}
	}()
	return sc.h(c.ctx, sc.req, sc.reply[:0])
}

// oneway runs the one-way handler on the read goroutine; a message of an
// unknown method is dropped and counted. A handler's error (or panic) is
// counted and reported to the sender with the message's tag.
func (c *serverConn) oneway(h header, payload []byte) {
	if h.method == PingMethod {
		return // a keepalive: its arrival moved the idle deadline
	}
	fn := c.s.onewayHandler(h.method)
	if fn == nil {
		c.onewayDropped.Add(1)
		return
	}
	if err := c.invokeOneway(fn, h, payload); err != nil {
		c.onewayErrors.Add(1)
		c.logOnewayError(h.method, err)
		eh := header{kind: KindOnewayError, method: h.method, seq: h.seq}
		c.errBuf = appendErrorPayload(c.errBuf[:0], err)
		c.w.writeFrame(c.ctx, eh, c.errBuf, false) // a failed write ends the read loop too
	}
}

// invokeOneway calls a one-way handler, turning a panic into an error.
func (c *serverConn) invokeOneway(fn OnewayHandler, h header, payload []byte) (err error) {
	defer func() {
		if v := recover(); v != nil {
			c.panics.Add(1)
			c.logger.Error("rpc: one-way handler panic", "method", h.method, "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: method %d", ErrHandlerPanic, h.method)
		}
	}()
	return fn(c.ctx, payload)
}

// logOnewayError logs a failed one-way message: a payload that does not
// decode at warning level (a peer speaking another version), anything else
// at debug level (the sender hears of it and counts it).
func (c *serverConn) logOnewayError(method uint16, err error) {
	if errors.Is(err, ErrTruncated) || errors.Is(err, ErrMalformed) {
		c.logger.Warn("rpc: bad one-way message", "method", method, "err", err)
		return
	}
	c.logger.Debug("rpc: one-way message failed", "method", method, "err", err)
}

// addStats adds the connection's counters to st.
func (c *serverConn) addStats(st *ServerStats) {
	st.FramesIn += c.framesIn.Load()
	frames, writes := c.w.counts()
	st.FramesOut += frames
	st.Writes += writes
	st.UnknownCalls += c.unknownCalls.Load()
	st.OnewayDropped += c.onewayDropped.Load()
	st.OnewayErrors += c.onewayErrors.Load()
	st.Panics += c.panics.Load()
	st.BytesIn += c.bytesIn.Load()
	if c.badFrame.Load() {
		st.BadFrames++
	}
	if c.authFailed.Load() {
		st.AuthFailures++
	}
	if c.idleClosed.Load() {
		st.IdleClosed++
	}
}
