package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/goimx/goim/internal/rawsock"
)

// Errors of PushConn.
var (
	// ErrHTTP reports a malformed HTTP answer.
	ErrHTTP = errors.New("bench: bad http answer")
	// ErrPushFailed reports a push answered with a code other than 0.
	ErrPushFailed = errors.New("bench: push failed")
)

// maxAnswer bounds the body of an HTTP answer PushConn reads.
const maxAnswer = 1 << 20

// Answer is the part of a push API answer the load generator looks at.
type Answer struct {
	Status int // HTTP status
	Code   int // "code" of the JSON body
	Conns  int // "data.conns" (pushes to keys and mids), -1 when absent
	Body   []byte
}

// PushConn is a lean HTTP/1.1 client on one keep-alive connection, for
// driving the push API at rates where net/http's own cost would dominate
// a shared machine: each request is one write of preformatted bytes and
// each answer is parsed in place, with no allocation in steady state. It
// reconnects after an error. A PushConn is used by one goroutine at a time.
type PushConn struct {
	addr    string        // host:port of the HTTP API
	timeout time.Duration // bound on one request
	nc      net.Conn
	src     *rawsock.Reader // what br reads
	br      *bufio.Reader
	rc      syscall.RawConn    // nc's; nil when it has none
	waitFn  func(uintptr) bool // p.writeWait, made once
	sent    bool               // writeWait wrote the request
	wrote   int                // bytes of it writeWait wrote
	werr    error              // writeWait's failure
	wbuf    []byte             // request being written
	body    []byte             // answer body; Answer.Body aliases it
}

// NewPushConn returns a PushConn for the HTTP API at addr (host:port). It
// connects on first use. A zero timeout means 10s per request.
func NewPushConn(addr string, timeout time.Duration) *PushConn {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &PushConn{addr: addr, timeout: timeout, wbuf: make([]byte, 0, 512)}
}

// Close closes the connection.
func (p *PushConn) Close() error {
	if p.nc == nil {
		return nil
	}
	err := p.nc.Close()
	p.nc = nil
	return err
}

// Post sends POST pathQuery (the request target: path and query) with
// body and reads the answer. Answer.Body is valid until the next call. An
// answer whose code is not 0 is returned along with an error wrapping
// ErrPushFailed.
func (p *PushConn) Post(pathQuery []byte, body []byte) (Answer, error) {
	a, err := p.roundTrip(pathQuery, body)
	if err != nil {
		p.Close()
		return a, err
	}
	if a.Code != 0 {
		return a, fmt.Errorf("%w: HTTP %d: %s", ErrPushFailed, a.Status, a.Body)
	}
	return a, nil
}

// roundTrip writes one request and reads its answer.
func (p *PushConn) roundTrip(pathQuery, body []byte) (Answer, error) {
	if p.nc == nil {
		nc, err := net.DialTimeout("tcp", p.addr, p.timeout)
		if err != nil {
			return Answer{}, err
		}
		p.nc = nc
		if p.br == nil {
			p.src = rawsock.NewReader(nc)
			p.br = bufio.NewReaderSize(p.src, 4096)
			p.waitFn = p.writeWait
		} else {
			p.src.Reset(nc)
			p.br.Reset(p.src)
		}
		p.rc = rawsock.RawConn(nc)
	}
	b := append(p.wbuf[:0], "POST "...)
	b = append(b, pathQuery...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, p.addr...)
	b = append(b, "\r\nContent-Type: application/octet-stream\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	p.wbuf = b
	_ = p.nc.SetDeadline(time.Now().Add(p.timeout))
	if err := p.send(); err != nil {
		return Answer{}, err
	}
	return p.readAnswer()
}

// send writes the request in p.wbuf. Where it can, it writes it inside a
// RawConn.Read and waits there for the answer's first bytes, which saves
// the read that would find the socket empty (see package rawsock): the
// answer cannot come before the request, so no readiness is missed.
func (p *PushConn) send() error {
	if p.rc == nil || p.br.Buffered() > 0 {
		_, err := p.nc.Write(p.wbuf)
		return err
	}
	p.sent, p.wrote, p.werr = false, 0, nil
	if err := p.rc.Read(p.waitFn); err != nil {
		return err
	}
	if p.werr != nil {
		return p.werr
	}
	if !p.sent { // the socket did not take all of it at once
		_, err := p.nc.Write(p.wbuf[p.wrote:])
		return err
	}
	return nil
}

// writeWait is send's RawConn.Read callback: the first call writes
// p.wbuf, the next ones read the answer's first bytes into p.br. It
// reports false to wait for the socket to become readable.
func (p *PushConn) writeWait(fd uintptr) bool {
	if !p.sent {
		n, err := rawsock.Write(fd, p.wbuf)
		switch {
		case err == rawsock.ErrWouldBlock:
			return true
		case err != nil:
			p.werr = err
			return true
		case n < len(p.wbuf):
			p.wrote = n
			return true
		}
		p.sent = true
		return false
	}
	p.src.Enter(fd)
	_, err := p.br.Peek(1)
	p.src.Leave()
	if err == rawsock.ErrWouldBlock {
		return false
	}
	p.werr = err
	return true
}

// readAnswer reads the status line, the headers and the body of an answer.
func (p *PushConn) readAnswer() (Answer, error) {
	line, err := p.br.ReadSlice('\n')
	if err != nil {
		return Answer{}, err
	}
	a := Answer{Conns: -1}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return a, fmt.Errorf("%w: status line %q", ErrHTTP, line)
	}
	if a.Status, err = atoi(line[9:12]); err != nil {
		return a, fmt.Errorf("%w: status line %q", ErrHTTP, line)
	}
	n, chunked, closeAfter, err := p.readHeaders()
	if err != nil {
		return a, err
	}
	if chunked {
		err = p.readChunked()
	} else {
		err = p.readBody(n)
	}
	if err != nil {
		return a, err
	}
	if closeAfter {
		p.Close()
	}
	a.Body = p.body
	a.Code = jsonInt(p.body, `"code":`, -1)
	a.Conns = jsonInt(p.body, `"conns":`, -1)
	return a, nil
}

// readHeaders reads the header lines, returning the content length, and
// whether the body is chunked and the connection closes after it.
func (p *PushConn) readHeaders() (n int, chunked, closeAfter bool, err error) {
	n = -1
	for {
		line, err := p.br.ReadSlice('\n')
		if err != nil {
			return 0, false, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, false, fmt.Errorf("%w: header %q", ErrHTTP, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if n, err = atoi(value); err != nil {
				return 0, false, false, fmt.Errorf("%w: content length %q", ErrHTTP, value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closeAfter = bytes.EqualFold(value, []byte("close"))
		}
	}
	if n < 0 && !chunked {
		return 0, false, false, fmt.Errorf("%w: no content length", ErrHTTP)
	}
	return n, chunked, closeAfter, nil
}

// readBody reads an n-byte body into p.body.
func (p *PushConn) readBody(n int) error {
	if n > maxAnswer {
		return fmt.Errorf("%w: body of %d bytes", ErrHTTP, n)
	}
	if cap(p.body) < n {
		p.body = make([]byte, n)
	}
	p.body = p.body[:n]
	_, err := io.ReadFull(p.br, p.body)
	return err
}

// readChunked reads a chunked body into p.body.
func (p *PushConn) readChunked() error {
	p.body = p.body[:0]
	for {
		line, err := p.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, err := strconv.ParseInt(string(bytes.TrimRight(line, "\r\n")), 16, 32)
		if err != nil || size < 0 || len(p.body)+int(size) > maxAnswer {
			return fmt.Errorf("%w: chunk size %q", ErrHTTP, line)
		}
		if size == 0 {
			_, err := p.br.ReadSlice('\n') // trailer end (no trailers expected)
			return err
		}
		start := len(p.body)
		p.body = append(p.body, make([]byte, size)...)
		if _, err := io.ReadFull(p.br, p.body[start:]); err != nil {
			return err
		}
		if _, err := p.br.Discard(2); err != nil { // CRLF after the chunk
			return err
		}
	}
}

// atoi parses a non-negative decimal number.
func atoi(b []byte) (int, error) {
	if len(b) == 0 || len(b) > 9 {
		return 0, strconv.ErrSyntax
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// jsonInt returns the integer that follows the first occurrence of key in
// body (a compact JSON object), or def when there is none.
func jsonInt(body []byte, key string, def int) int {
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return def
	}
	b := body[i+len(key):]
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	n, digits := 0, 0
	for digits < len(b) && digits < 18 && b[digits] >= '0' && b[digits] <= '9' {
		n = n*10 + int(b[digits]-'0')
		digits++
	}
	if digits == 0 {
		return def
	}
	if neg {
		n = -n
	}
	return n
}
