package http1

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// headError is a request the server answers itself: status (0: close
// without an answer, the caller is gone) and why.
type headError struct {
	status int
	msg    string
}

// Error implements error.
func (e *headError) Error() string { return e.msg }

// Head failures.
var (
	errGone        = &headError{0, "connection ended"}
	errHeadTooLong = &headError{http.StatusRequestHeaderFieldsTooLarge, "request head too large"}
)

// badRequest is a 400 answered with msg.
func badRequest(msg string) *headError { return &headError{http.StatusBadRequest, msg} }

// head is what readHead learns from the headers beyond the map.
type head struct {
	bytes      int    // head bytes read so far
	hostSeen   bool   // a Host header came
	length     int64  // Content-Length, -1 when absent
	te         string // Transfer-Encoding, "" when absent
	teSeen     bool
	connClose  bool // Connection: close
	connKeep   bool // Connection: keep-alive
	expect     string
	expectSeen bool
}

// readHead reads and parses a request line and headers into c.req and
// sets up its body. A nil error means the request is ready for the
// handler.
func (c *conn) readHead() *headError {
	var h head
	h.length = -1
	line, err := c.readLine(&h)
	if err != nil {
		return err
	}
	if err := c.parseRequestLine(line); err != nil {
		return err
	}
	for {
		line, err := c.readLine(&h)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		if err := c.parseHeader(line, &h); err != nil {
			return err
		}
	}
	return c.finishHead(&h)
}

// readLine returns the next head line without its line end (CRLF or a
// bare LF). The slice is valid until the next read.
func (c *conn) readLine(h *head) ([]byte, *headError) {
	limit := c.srv.headLimit()
	line := c.line[:0]
	for {
		b, err := c.br.ReadSlice('\n')
		h.bytes += len(b)
		if h.bytes > limit {
			return nil, errHeadTooLong
		}
		switch {
		case err == nil && len(line) == 0:
			return trimEOL(b), nil
		case err == nil:
			line = append(line, b...)
			c.line = line
			return trimEOL(line), nil
		case errors.Is(err, bufio.ErrBufferFull):
			line = append(line, b...)
			c.line = line
		default:
			return nil, errGone
		}
	}
}

// trimEOL drops a line's trailing LF or CRLF.
func trimEOL(b []byte) []byte {
	b = b[:len(b)-1]
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return b
}

// parseRequestLine parses "METHOD target HTTP/1.x" into c.req and c.url.
func (c *conn) parseRequestLine(line []byte) *headError {
	method, rest, ok1 := bytes.Cut(line, []byte(" "))
	target, proto, ok2 := bytes.Cut(rest, []byte(" "))
	if !ok1 || !ok2 {
		return badRequest("malformed request line")
	}
	minor, ok := parseVersion(proto)
	if !ok {
		return badRequest("malformed HTTP version")
	}
	if minor < 0 {
		return &headError{http.StatusHTTPVersionNotSupported, "unsupported HTTP version"}
	}
	if len(method) == 0 || !isToken(method) {
		return badRequest("invalid method")
	}
	hdr := c.req.Header
	clear(hdr)
	c.used = 0
	c.req = http.Request{
		Method:     methodString(method),
		URL:        &c.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: minor,
		Header:     hdr,
		RemoteAddr: c.remote,
	}
	switch {
	case minor == 0:
		c.req.Proto = "HTTP/1.0"
	case minor > 1:
		c.req.Proto = string(proto) // read as 1.1, as net/http does
	}
	return c.parseTarget(target)
}

// parseVersion parses "HTTP/1.y" and returns y; -1 (and true) for another
// well-formed major version.
func parseVersion(p []byte) (int, bool) {
	switch string(p) {
	case "HTTP/1.1":
		return 1, true
	case "HTTP/1.0":
		return 0, true
	}
	if len(p) != len("HTTP/x.y") || !bytes.HasPrefix(p, []byte("HTTP/")) || p[6] != '.' ||
		!isDigit(p[5]) || !isDigit(p[7]) {
		return 0, false
	}
	if p[5] != '1' {
		return -1, true
	}
	return int(p[7] - '0'), true
}

// parseTarget sets c.url and RequestURI from a request target. An
// origin-form target without escapes in its path costs one string; others
// go through url.ParseRequestURI.
func (c *conn) parseTarget(target []byte) *headError {
	if len(target) == 0 {
		return badRequest("empty request target")
	}
	for _, b := range target {
		if b < 0x21 || b == 0x7f {
			return badRequest("invalid character in request target")
		}
	}
	s := string(target)
	c.req.RequestURI = s
	path, query, hasQuery := strings.Cut(s, "?")
	if s[0] == '/' && !strings.Contains(path, "%") {
		c.url = url.URL{Path: path, RawQuery: query, ForceQuery: hasQuery && query == ""}
		return nil
	}
	u, err := url.ParseRequestURI(s)
	if err != nil {
		return badRequest("malformed request target")
	}
	c.url = *u
	return nil
}

// parseHeader parses one "Name: value" line into the request.
func (c *conn) parseHeader(line []byte, h *head) *headError {
	if line[0] == ' ' || line[0] == '\t' {
		return badRequest("folded header line")
	}
	rawName, rawValue, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(rawName) == 0 || !isToken(rawName) {
		return badRequest("malformed header line")
	}
	value := bytes.Trim(rawValue, " \t")
	if !validValue(value) {
		return badRequest("invalid header value")
	}
	name := c.canonical(rawName)
	switch name {
	case "Host":
		if h.hostSeen {
			return badRequest("too many Host headers")
		}
		h.hostSeen = true
		c.req.Host = c.intern(value)
		return nil
	case "Content-Length":
		n, ok := parseLength(value)
		if !ok || h.length >= 0 && h.length != n {
			return badRequest("invalid Content-Length")
		}
		h.length = n
	case "Transfer-Encoding":
		if h.teSeen {
			return badRequest("too many Transfer-Encoding headers")
		}
		if c.req.ProtoMinor == 0 {
			return nil // ignored in HTTP/1.0, as net/http does
		}
		h.teSeen = true
		h.te = c.intern(value)
		return nil
	case "Connection":
		v := c.intern(value)
		h.connClose = h.connClose || hasToken(v, "close")
		h.connKeep = h.connKeep || hasToken(v, "keep-alive")
		c.addValue(name, v)
		return nil
	case "Expect":
		h.expectSeen = true
		h.expect = c.intern(value)
	}
	c.addValue(name, c.intern(value))
	return nil
}

// finishHead checks the head as a whole and sets up the body.
func (c *conn) finishHead(h *head) *headError {
	r := &c.req
	if r.ProtoMinor >= 1 && !h.hostSeen {
		return badRequest("missing required Host header")
	}
	if c.url.Host != "" {
		r.Host = c.url.Host
	}
	r.Close = h.connClose || r.ProtoMinor == 0 && !h.connKeep
	c.body.start()
	switch {
	case h.teSeen && !strings.EqualFold(h.te, "chunked"):
		return &headError{http.StatusNotImplemented, "unsupported transfer encoding"}
	case h.teSeen:
		delete(r.Header, "Content-Length")
		r.ContentLength = -1
		r.TransferEncoding = []string{"chunked"}
		c.body.chunked = true
		r.Body = &c.body
	case h.length > 0:
		r.ContentLength = h.length
		c.body.remain = h.length
		r.Body = &c.body
	default:
		r.Body = http.NoBody
	}
	if h.expectSeen && r.ProtoMinor >= 1 {
		if !strings.EqualFold(h.expect, "100-continue") {
			return &headError{http.StatusExpectationFailed, "unsupported Expect"}
		}
		c.body.sendContinue = r.Body != http.NoBody
	}
	return nil
}

// addValue appends value to the request's header name. The value slices
// are cut from the connection's slab, reused by the next request once the
// map is cleared.
func (c *conn) addValue(name, value string) {
	hdr := c.req.Header
	if vs, ok := hdr[name]; ok {
		hdr[name] = append(vs, value)
		return
	}
	if c.used == len(c.slab) {
		c.slab = make([]string, max(headerValues, 2*len(c.slab)))
		c.used = 0
	}
	c.slab[c.used] = value
	hdr[name] = c.slab[c.used : c.used+1 : c.used+1]
	c.used++
}

// canonical returns the canonical form of a header name, remembered per
// connection so that a name seen before costs no string.
func (c *conn) canonical(raw []byte) string {
	if s, ok := c.names[string(raw)]; ok {
		return s
	}
	s := textproto.CanonicalMIMEHeaderKey(string(raw))
	if len(c.names) < maxInterned {
		c.names[string(raw)] = s
	}
	return s
}

// intern returns v as a string, shared with the connection's earlier
// requests that sent the same value.
func (c *conn) intern(v []byte) string {
	if s, ok := c.values[string(v)]; ok {
		return s
	}
	s := string(v)
	if len(c.values) < maxInterned {
		c.values[s] = s
	}
	return s
}

// methodString returns the method as a string, a constant for the
// standard methods.
func methodString(m []byte) string {
	for _, s := range [...]string{http.MethodPost, http.MethodGet, http.MethodHead, http.MethodPut,
		http.MethodDelete, http.MethodOptions, http.MethodPatch, http.MethodConnect, http.MethodTrace} {
		if string(m) == s {
			return s
		}
	}
	return string(m)
}

// parseLength parses a Content-Length value: digits only.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, b := range v {
		if !isDigit(b) {
			return 0, false
		}
		n = n*10 + int64(b-'0')
	}
	return n, true
}

// hasToken reports whether the comma-separated list v holds token,
// ignoring case.
func hasToken(v, token string) bool {
	for v != "" {
		var item string
		item, v, _ = strings.Cut(v, ",")
		if strings.EqualFold(strings.Trim(item, " \t"), token) {
			return true
		}
	}
	return false
}

// isDigit reports whether b is an ASCII digit.
func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// isToken reports whether b is an RFC 9110 token.
func isToken[T string | []byte](b T) bool {
	for i := 0; i < len(b); i++ {
		if !isTokenChar(b[i]) {
			return false
		}
	}
	return true
}

// validValue reports whether b is a valid header value: no control
// characters but horizontal tab.
func validValue(b []byte) bool {
	for _, ch := range b {
		if ch < 0x20 && ch != '\t' || ch == 0x7f {
			return false
		}
	}
	return true
}

// isTokenChar reports whether ch may appear in an RFC 9110 token.
func isTokenChar(ch byte) bool {
	switch {
	case '0' <= ch && ch <= '9', 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", ch) >= 0
}
