package websocket

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Handshake refusals. ServerHandshake returns a *HandshakeError wrapping one
// of them; check with errors.Is.
var (
	ErrRequestTooLarge  = errors.New("websocket: handshake request too large")       // 431
	ErrMalformedRequest = errors.New("websocket: malformed handshake request")       // 400
	ErrMethodNotAllowed = errors.New("websocket: handshake method is not GET")       // 405
	ErrBadHTTPVersion   = errors.New("websocket: handshake is not HTTP/1.1")         // 400
	ErrMissingHost      = errors.New("websocket: handshake without Host")            // 400
	ErrPathNotFound     = errors.New("websocket: handshake path not found")          // 404
	ErrNotUpgrade       = errors.New("websocket: not a websocket upgrade request")   // 400
	ErrBadVersion       = errors.New("websocket: unsupported Sec-WebSocket-Version") // 426
	ErrBadKey           = errors.New("websocket: bad Sec-WebSocket-Key")             // 400
	ErrOriginRefused    = errors.New("websocket: origin not allowed")                // 403
)

// HTTP statuses ServerHandshake answers refused requests with.
const (
	statusBadRequest       = 400
	statusForbidden        = 403
	statusNotFound         = 404
	statusMethodNotAllowed = 405
	statusUpgradeRequired  = 426
	statusTooLarge         = 431
)

// statusText returns the reason phrase of the statuses above.
func statusText(code int) string {
	switch code {
	case statusBadRequest:
		return "Bad Request"
	case statusForbidden:
		return "Forbidden"
	case statusNotFound:
		return "Not Found"
	case statusMethodNotAllowed:
		return "Method Not Allowed"
	case statusUpgradeRequired:
		return "Upgrade Required"
	case statusTooLarge:
		return "Request Header Fields Too Large"
	}
	return "Error"
}

// HandshakeError is a refused upgrade request: the HTTP status and one-line
// reason that ServerHandshake answered with, and the sentinel it wraps.
type HandshakeError struct {
	Status int    // HTTP status sent to the client
	Reason string // the response body, without the trailing newline
	Err    error  // one of the Err* refusal sentinels
}

// Error returns "websocket: handshake refused: STATUS: REASON".
func (e *HandshakeError) Error() string {
	return "websocket: handshake refused: " + strconv.Itoa(e.Status) + ": " + e.Reason
}

// Unwrap returns the refusal sentinel.
func (e *HandshakeError) Unwrap() error { return e.Err }

// refuse builds a HandshakeError.
func refuse(status int, sentinel error, reason string) *HandshakeError {
	return &HandshakeError{Status: status, Reason: reason, Err: sentinel}
}

// HandshakeConfig is the server side of the opening handshake. The zero
// value (or a nil pointer) accepts any path and origin.
type HandshakeConfig struct {
	// Path is the only request path accepted (query excluded), e.g. "/sub";
	// other paths get 404. "" accepts any path.
	Path string
	// AllowedOrigins lists accepted Origin header values such as
	// "https://example.com", compared ignoring ASCII case; others get 403.
	// Empty accepts any origin. A request without an Origin header (not from
	// a browser) is accepted either way.
	AllowedOrigins []string
	// MaxRequestBytes caps the request head (request line and headers);
	// larger requests get 431. 0 means 4096.
	MaxRequestBytes int
}

// maxRequestBytes returns the effective head limit.
func (c *HandshakeConfig) maxRequestBytes() int {
	if c == nil || c.MaxRequestBytes <= 0 {
		return defaultMaxHandshakeBytes
	}
	return c.MaxRequestBytes
}

// Request is what ServerHandshake learned about the upgrade request, for
// logging and routing. Fields are copies and do not alias the scratch buffer;
// headers that were absent are "".
type Request struct {
	Path         string // request path without the query
	RawQuery     string // query after '?', without it
	Host         string // Host header
	Origin       string // Origin header
	UserAgent    string // User-Agent header
	ForwardedFor string // X-Forwarded-For header, as sent
	RealIP       string // X-Real-IP header, as sent
}

// ServerHandshake runs the server side of the opening handshake (RFC 6455
// section 4.2) on a raw connection. It reads the request into buf, which the
// caller owns (a pooled scratch buffer; when shorter than the request limit
// a buffer of that size is allocated instead), validates it and writes
// "101 Switching Protocols".
//
// leftover holds the bytes the client sent after the request (it may send
// its first frame at once); it aliases buf, so pass it to NewServerConn
// (which copies it) before reusing buf.
//
// A refused request is answered with an HTTP error (400 with a one-line
// reason, 403 refused origin, 404 wrong path, 405 not GET, 426 wrong
// Sec-WebSocket-Version, 431 too large) and a *HandshakeError is returned;
// req holds what could be parsed. Read and write errors are returned wrapped
// and nothing more is written. ServerHandshake sets no deadline: the caller
// bounds the handshake with rw's deadline.
func ServerHandshake(rw io.ReadWriter, buf []byte, cfg *HandshakeConfig) (req Request, leftover []byte, err error) {
	limit := cfg.maxRequestBytes()
	if len(buf) < limit {
		buf = make([]byte, limit)
	}
	headLen, n, err := readHead(rw, buf)
	if err == errHeadTooLarge || headLen > limit {
		herr := refuse(statusTooLarge, ErrRequestTooLarge,
			"request head larger than "+strconv.Itoa(limit)+" bytes")
		return req, nil, writeRefusal(rw, buf, herr)
	}
	if err != nil {
		return req, nil, fmt.Errorf("websocket: handshake: read: %w", err)
	}
	var accept [acceptKeyLen]byte
	req, herr := parseUpgrade(buf[:headLen-2], cfg, &accept)
	if herr != nil {
		return req, nil, writeRefusal(rw, buf, herr)
	}
	// The head is no longer needed: build the answer over it, capped at
	// headLen so that the leftover bytes behind it stay intact.
	resp := append(buf[:0:headLen], "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	resp = append(resp, accept[:]...)
	resp = append(resp, "\r\n\r\n"...)
	if err := writeAll(rw, resp); err != nil {
		return req, nil, err
	}
	if n == headLen {
		return req, nil, nil
	}
	return req, buf[headLen:n], nil
}

// writeAll writes a handshake message b to w, reporting short writes as
// io.ErrShortWrite.
func writeAll(w io.Writer, b []byte) error {
	m, err := w.Write(b)
	if err == nil && m != len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("websocket: handshake: write: %w", err)
	}
	return nil
}

// writeRefusal answers a refused request with herr's status and reason, built
// in buf, and returns herr (or the write error joined to it).
func writeRefusal(w io.Writer, buf []byte, herr *HandshakeError) error {
	b := append(buf[:0], "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(herr.Status), 10)
	b = append(b, ' ')
	b = append(b, statusText(herr.Status)...)
	b = append(b, "\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"...)
	switch herr.Status {
	case statusUpgradeRequired:
		b = append(b, "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"...)
	case statusMethodNotAllowed:
		b = append(b, "Allow: GET\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(herr.Reason)+1), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, herr.Reason...)
	b = append(b, '\n')
	if err := writeAll(w, b); err != nil {
		return errors.Join(herr, err)
	}
	return herr
}

// upgradeHeaders are the header values of an upgrade request that matter.
// Slices alias the request head.
type upgradeHeaders struct {
	host, origin, key, version, userAgent, forwardedFor, realIP []byte
	hosts, keys, versions, origins                              int
	upgradeWS, connUpgrade                                      bool
}

// parseUpgrade parses and validates the request head (request line and
// header lines, each ending in CRLF) and fills accept with the
// Sec-WebSocket-Accept value.
func parseUpgrade(head []byte, cfg *HandshakeConfig, accept *[acceptKeyLen]byte) (Request, *HandshakeError) {
	var req Request
	line, rest := nextLine(head)
	target, herr := parseRequestLine(line)
	if herr != nil {
		return req, herr
	}
	path, query := splitTarget(target)
	req.Path, req.RawQuery = string(path), string(query)
	var h upgradeHeaders
	if herr := parseHeaders(rest, &h); herr != nil {
		return req, herr
	}
	req.Host, req.Origin, req.UserAgent = string(h.host), string(h.origin), string(h.userAgent)
	req.ForwardedFor, req.RealIP = string(h.forwardedFor), string(h.realIP)
	if herr := checkUpgrade(&req, &h, cfg); herr != nil {
		return req, herr
	}
	appendAcceptKey(accept[:0], h.key)
	return req, nil
}

// parseRequestLine checks "GET target HTTP/1.1" and returns the target.
func parseRequestLine(line []byte) ([]byte, *HandshakeError) {
	method, rest, ok1 := bytes.Cut(line, []byte(" "))
	i := bytes.LastIndexByte(rest, ' ')
	if !ok1 || i <= 0 || len(method) == 0 || !validTarget(rest[:i]) {
		return nil, refuse(statusBadRequest, ErrMalformedRequest, "malformed request line")
	}
	for _, c := range method {
		if !isTokenChar(c) {
			return nil, refuse(statusBadRequest, ErrMalformedRequest, "malformed request line")
		}
	}
	target, proto := rest[:i], rest[i+1:]
	if string(proto) != "HTTP/1.1" {
		return nil, refuse(statusBadRequest, ErrBadHTTPVersion, "HTTP/1.1 required")
	}
	if string(method) != "GET" {
		return nil, refuse(statusMethodNotAllowed, ErrMethodNotAllowed, "method must be GET")
	}
	return target, nil
}

// validTarget reports whether target is free of spaces and control bytes.
func validTarget(target []byte) bool {
	for _, c := range target {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// splitTarget splits an origin-form ("/p?q") or absolute-form
// ("http://h/p?q") request target into path and query.
func splitTarget(target []byte) (path, query []byte) {
	if target[0] != '/' {
		if _, after, ok := bytes.Cut(target, []byte("://")); ok {
			if i := bytes.IndexAny(after, "/?"); i >= 0 {
				target = after[i:]
			} else {
				target = nil
			}
		}
	}
	path, query, _ = bytes.Cut(target, []byte("?"))
	if len(path) == 0 {
		path = []byte("/")
	}
	return path, query
}

// parseHeaders reads the header lines into h.
func parseHeaders(rest []byte, h *upgradeHeaders) *HandshakeError {
	for len(rest) > 0 {
		var line []byte
		line, rest = nextLine(rest)
		name, value, ok := splitHeader(line)
		if !ok {
			return refuse(statusBadRequest, ErrMalformedRequest, "malformed header line")
		}
		h.set(name, value)
	}
	return nil
}

// set records one header.
func (h *upgradeHeaders) set(name, value []byte) {
	switch {
	case equalFold(name, "Host"):
		h.host, h.hosts = value, h.hosts+1
	case equalFold(name, "Upgrade"):
		h.upgradeWS = h.upgradeWS || hasToken(value, "websocket")
	case equalFold(name, "Connection"):
		h.connUpgrade = h.connUpgrade || hasToken(value, "upgrade")
	case equalFold(name, "Sec-WebSocket-Key"):
		h.key, h.keys = value, h.keys+1
	case equalFold(name, "Sec-WebSocket-Version"):
		h.version, h.versions = value, h.versions+1
	case equalFold(name, "Origin"):
		h.origin, h.origins = value, h.origins+1
	case equalFold(name, "User-Agent"):
		h.userAgent = value
	case equalFold(name, "X-Forwarded-For"):
		h.forwardedFor = value
	case equalFold(name, "X-Real-IP"):
		h.realIP = value
	}
}

// checkUpgrade validates the parsed request against RFC 6455 and cfg, in the
// order: Host, path, upgrade headers, version, key, origin.
func checkUpgrade(req *Request, h *upgradeHeaders, cfg *HandshakeConfig) *HandshakeError {
	switch {
	case h.hosts == 0 || len(h.host) == 0:
		return refuse(statusBadRequest, ErrMissingHost, "missing Host header")
	case h.hosts > 1:
		return refuse(statusBadRequest, ErrMalformedRequest, "more than one Host header")
	case cfg != nil && cfg.Path != "" && req.Path != cfg.Path:
		return refuse(statusNotFound, ErrPathNotFound, "no websocket endpoint at this path")
	case !h.upgradeWS:
		return refuse(statusBadRequest, ErrNotUpgrade, "missing Upgrade: websocket header")
	case !h.connUpgrade:
		return refuse(statusBadRequest, ErrNotUpgrade, "Connection header lacks the Upgrade token")
	case h.versions != 1 || string(h.version) != "13":
		return refuse(statusUpgradeRequired, ErrBadVersion, "Sec-WebSocket-Version must be 13")
	case h.keys != 1 || !validKey(h.key):
		return refuse(statusBadRequest, ErrBadKey, "Sec-WebSocket-Key must be 16 bytes in base64")
	case h.origins > 1:
		return refuse(statusBadRequest, ErrMalformedRequest, "more than one Origin header")
	case h.origins == 1 && !originAllowed(h.origin, cfg):
		return refuse(statusForbidden, ErrOriginRefused, "origin not allowed")
	}
	return nil
}

// validKey reports whether key is the base64 encoding of 16 bytes.
func validKey(key []byte) bool {
	if len(key) != 24 {
		return false
	}
	var raw [18]byte
	n, err := base64.StdEncoding.Decode(raw[:], key)
	return err == nil && n == 16
}

// originAllowed reports whether origin is on cfg's allow list (an empty list
// allows all).
func originAllowed(origin []byte, cfg *HandshakeConfig) bool {
	if cfg == nil || len(cfg.AllowedOrigins) == 0 {
		return true
	}
	for _, o := range cfg.AllowedOrigins {
		if equalFold(origin, o) {
			return true
		}
	}
	return false
}
