package http1

import (
	"bytes"
	"net/http"

	"github.com/goimx/goim/internal/rawsock"
)

// rawStep is where serving inside RawConn.Read left a connection.
type rawStep int

const (
	rawWait   rawStep = iota // wait until the socket is readable, then go on
	rawEnd                   // the connection ends
	rawSlow                  // a head came in part: read it with blocking reads
	rawBody                  // a head was parsed, its body is still to come
	rawRefuse                // the head was refused: answer c.refusal
	rawLinger                // the answer went out over an unread body: linger
)

// serveRaw serves requests inside one RawConn.Read of the socket until a
// request needs blocking reads or the connection ends, and says which.
//
// Within one RawConn.Read the server can wait for the next request right
// after writing an answer, as long as it read the socket since that
// RawConn.Read began (see package rawsock): without the read that would
// find the socket empty, which a plain Read makes after every answer.
func (c *conn) serveRaw() rawStep {
	c.rawRead = false
	c.step = rawEnd
	if err := c.rc.Read(c.rawFn); err != nil {
		return rawEnd
	}
	return c.step
}

// readable is the function serveRaw passes to RawConn.Read: it reports
// true to end the RawConn.Read, false to wait until the socket is
// readable.
func (c *conn) readable(fd uintptr) bool {
	c.src.Enter(fd)
	c.step = c.serveBuffered()
	c.src.Leave()
	return c.step != rawWait
}

// serveBuffered serves the requests whose head, and body if any, are in
// the buffer whole, reading the socket when the buffer holds no head. It
// never waits for the socket itself: it returns rawWait for that.
func (c *conn) serveBuffered() rawStep {
	for {
		if !c.headBuffered() {
			if c.br.Buffered() == c.br.Size() {
				return rawSlow // a head longer than the buffer
			}
			if _, err := c.br.Peek(c.br.Buffered() + 1); err != nil {
				if err == rawsock.ErrWouldBlock {
					c.markIdle()
					return rawWait
				}
				return rawEnd
			}
			c.rawRead = true
			if !c.headBuffered() {
				return rawSlow
			}
		}
		if !c.awaitRequest() { // does not read: a head is buffered
			return rawEnd
		}
		c.startRequest()
		if herr := c.readHead(); herr != nil {
			c.refusal = herr
			return rawRefuse
		}
		if !c.bodyBuffered() {
			return rawBody
		}
		bodyRead, keep, ok := c.answer()
		switch {
		case !ok:
			return rawEnd
		case !bodyRead:
			return rawLinger
		case !keep, !c.readyForNext():
			return rawEnd
		}
		if c.br.Buffered() == 0 && c.rawRead {
			c.markIdle()
			return rawWait
		}
	}
}

// markIdle starts the idle phase of a connection that served a request
// and now waits for the next. A wake-up that finds nothing to read
// leaves the phase running since the last answer.
func (c *conn) markIdle() {
	if c.served && phase(c.phase.Load()&(1<<phaseBits-1)) != phaseIdle {
		c.setPhase(phaseIdle, c.srv.now.Load())
	}
}

// headBuffered reports whether the buffer holds a request head that
// readHead parses without reading further: up to an empty line, or an
// empty first line, which it refuses.
func (c *conn) headBuffered() bool {
	buf, _ := c.br.Peek(c.br.Buffered())
	switch {
	case len(buf) == 0:
		return false
	case buf[0] == '\n', bytes.HasPrefix(buf, []byte("\r\n")):
		return true
	}
	return bytes.Contains(buf, []byte("\n\n")) || bytes.Contains(buf, []byte("\n\r\n"))
}

// bodyBuffered reports whether the parsed request's body is in the
// buffer whole, so that the handler reads it without waiting. A chunked
// body, or one owed "100 Continue", is read outside RawConn.Read.
func (c *conn) bodyBuffered() bool {
	if c.req.Body == http.NoBody {
		return true
	}
	b := &c.body
	return !b.chunked && !b.sendContinue && b.remain <= int64(c.br.Buffered())
}
