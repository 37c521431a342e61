package http1

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goimx/goim/internal/rawsock"
)

// Connection states, for Shutdown: only an idle connection is closed
// under a caller's feet.
const (
	stateActive int32 = iota // reading or serving a request
	stateIdle                // waiting for the next request
	stateClosed              // closed by the server
)

// phase is what a connection is doing, for the sweeper's timeouts.
type phase int64

const (
	phaseHandler phase = iota // the handler runs: no timeout
	phaseIdle                 // waiting for a request: IdleTimeout
	phaseHeader               // reading a head: ReadHeaderTimeout
	phaseBody                 // the handler reads the body: ReadTimeout
	phaseWrite                // writing the answer: WriteTimeout
)

// phaseBits is how many low bits of conn.phase hold the phase; the rest
// hold when it began.
const phaseBits = 3

// Per-connection bounds.
const (
	readBufSize  = 4096                   // the connection's bufio.Reader
	maxKeptBuf   = 64 << 10               // a buffer grown past this is dropped after its request
	maxDiscard   = 256 << 10              // unread body the server reads away to keep a connection
	maxInterned  = 128                    // header names or values a connection remembers
	headerValues = 32                     // header value slots made at once
	lingerTime   = 500 * time.Millisecond // linger's bound
)

// conn is one HTTP connection. Its goroutine owns every field but state
// and phase, which the server's Shutdown and sweeper read.
type conn struct {
	srv    *Server
	nc     net.Conn
	remote string          // nc.RemoteAddr().String()
	src    *rawsock.Reader // what br reads
	br     *bufio.Reader

	rc      syscall.RawConn    // nc's, for waiting without a read; nil when nc has none
	rawFn   func(uintptr) bool // c.readable, made once
	rawRead bool               // the current rc.Read read the socket
	step    rawStep            // where the last rc.Read left the connection
	refusal *headError         // the head error rawRefuse answers

	state atomic.Int32 // stateActive, stateIdle or stateClosed
	phase atomic.Int64 // since<<phaseBits | phase; since on the server's clock

	reqStart int64 // server clock when the current request's first byte came
	served   bool  // a request has begun on the connection

	req  http.Request
	url  url.URL
	body body
	w    response

	names  map[string]string // header names seen: as sent → canonical
	values map[string]string // header values seen, shared by requests
	slab   []string          // header value slots; the map's values alias them
	used   int               // slots of slab in use by the current request
	line   []byte            // a head line longer than br's buffer
	out    []byte            // the answer being written
}

// newConn wraps nc for s.
func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{
		srv:    s,
		nc:     nc,
		remote: nc.RemoteAddr().String(),
		src:    rawsock.NewReader(nc),
		names:  make(map[string]string),
		values: make(map[string]string),
	}
	c.br = bufio.NewReaderSize(c.src, readBufSize)
	c.rc = rawsock.RawConn(nc)
	c.rawFn = c.readable
	c.req.Header = make(http.Header)
	c.w.header = make(http.Header)
	c.body.c = c
	c.w.c = c
	c.state.Store(stateIdle)
	c.setPhase(phaseHeader, s.now.Load())
	return c
}

// setPhase records that the connection entered p at since.
func (c *conn) setPhase(p phase, since int64) {
	c.phase.Store(since<<phaseBits | int64(p))
}

// overdue reports whether the connection overstays its phase's timeout
// at now.
func (c *conn) overdue(now int64) bool {
	v := c.phase.Load()
	limit := c.srv.limit(phase(v & (1<<phaseBits - 1)))
	return limit > 0 && now-v>>phaseBits > int64(limit)
}

// serve reads and answers requests until the connection ends. Requests
// that arrive whole are served inside the socket's RawConn.Read (see
// serveBuffered); the others, and every request on a connection without
// one, are read with blocking reads.
func (c *conn) serve() {
	defer c.close()
	if c.rc == nil {
		for c.awaitRequest() && c.serveRequest() {
		}
		return
	}
	for {
		switch c.serveRaw() {
		case rawSlow:
			if !c.awaitRequest() || !c.serveRequest() {
				return
			}
		case rawBody:
			if !c.serveParsed() {
				return
			}
		case rawRefuse:
			c.refuse(c.refusal)
			return
		case rawLinger:
			c.linger()
			return
		default:
			return
		}
	}
}

// abort ends the connection from another goroutine: what it waits for
// or does next fails. A socket served inside RawConn.Read is shut down,
// not closed, because a close waits until that RawConn.Read returns,
// which may be after a slow handler; the connection's goroutine closes
// it on its way out.
func (c *conn) abort() {
	if c.rc == nil {
		c.nc.Close()
		return
	}
	c.rc.Control(rawsock.Shutdown)
	c.nc.SetDeadline(time.Unix(1, 0)) // passed: every wait ends
}

// close closes the socket and forgets the connection.
func (c *conn) close() {
	c.state.Store(stateClosed)
	c.nc.Close()
	c.srv.removeConn(c)
}

// awaitRequest waits for the first byte of the next request (none when
// one is buffered already) and marks the connection active. It reports
// false when the connection ended or Shutdown closed it. The wait for a
// connection's first request counts against ReadHeaderTimeout from the
// accept, later waits against IdleTimeout.
func (c *conn) awaitRequest() bool {
	if c.br.Buffered() == 0 {
		if c.served {
			c.setPhase(phaseIdle, c.srv.now.Load())
		}
		if _, err := c.br.Peek(1); err != nil {
			return false
		}
	}
	c.served = true
	return c.state.CompareAndSwap(stateIdle, stateActive)
}

// serveRequest reads one request, runs the handler and writes its answer.
// It reports whether the connection stays open for another.
func (c *conn) serveRequest() bool {
	c.startRequest()
	if herr := c.readHead(); herr != nil {
		c.refuse(herr)
		return false
	}
	return c.serveParsed()
}

// startRequest marks that a request's head begins now.
func (c *conn) startRequest() {
	c.reqStart = c.srv.now.Load()
	c.setPhase(phaseHeader, c.reqStart)
}

// refuse answers a head the server could not take, when there is someone
// to answer, and lingers so that the caller reads it.
func (c *conn) refuse(herr *headError) {
	if herr.status != 0 {
		c.writeFailure(herr)
		c.linger()
	}
}

// serveParsed runs the handler on the parsed request and writes its
// answer. It reports whether the connection stays open for another.
func (c *conn) serveParsed() bool {
	bodyRead, keep, ok := c.answer()
	if !ok {
		return false
	}
	if !bodyRead {
		c.linger() // the caller may still be sending the body
	}
	return keep && c.readyForNext()
}

// answer runs the handler on the parsed request, reads away what it left
// of the body and writes the answer. ok is false when the connection
// ended; bodyRead, whether the body was read to its end; keep, whether
// the connection may serve another request.
func (c *conn) answer() (bodyRead, keep, ok bool) {
	c.setPhase(phaseHandler, c.reqStart)
	// "OPTIONS *" asks about the server, not a resource: answered here,
	// with an empty 200, as net/http does.
	serverOptions := c.req.Method == http.MethodOptions && c.req.RequestURI == "*"
	if !serverOptions && !c.runHandler() {
		return false, false, false
	}
	bodyRead = c.finishBody()
	keep = bodyRead && c.keepAlive()
	if !c.writeAnswer(keep) {
		return bodyRead, false, false
	}
	return bodyRead, keep, true
}

// readyForNext readies the connection for its next request after an
// answer. It reports false when the server is closing.
func (c *conn) readyForNext() bool {
	c.reset()
	c.state.Store(stateIdle)
	return !c.srv.closing.Load()
}

// linger half-closes the connection and reads away what the caller still
// sends, for up to lingerTime and maxDiscard bytes, so that closing with
// unread bytes does not reset the connection before the caller has read
// the server's refusal.
func (c *conn) linger() {
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	c.nc.SetReadDeadline(time.Now().Add(lingerTime))
	var scratch [512]byte
	for total := 0; total < maxDiscard; {
		n, err := c.nc.Read(scratch[:])
		total += n
		if err != nil {
			return
		}
	}
}

// runHandler calls the handler; a panic ends the connection without an
// answer and, unless it is http.ErrAbortHandler, is logged with its stack.
func (c *conn) runHandler() (ok bool) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		ok = false
		if v != http.ErrAbortHandler {
			stack := make([]byte, 16<<10)
			stack = stack[:runtime.Stack(stack, false)]
			c.srv.logger().Error("http1: handler panic", "remote", c.remote, "path", c.url.Path, "panic", v, "stack", string(stack))
		}
	}()
	c.srv.Handler.ServeHTTP(&c.w, &c.req)
	return true
}

// keepAlive reports whether the connection may serve another request
// after this one.
func (c *conn) keepAlive() bool {
	return !c.req.Close && !c.w.closeAfter && !c.srv.closing.Load()
}

// reset drops what the request left behind, keeping buffers of
// reasonable size for the next one.
func (c *conn) reset() {
	if cap(c.out) > maxKeptBuf {
		c.out = nil
	}
	if cap(c.line) > maxKeptBuf {
		c.line = nil
	}
	c.w.reset()
}
