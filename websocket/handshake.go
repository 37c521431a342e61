package websocket

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"io"
)

// acceptGUID is the fixed GUID of RFC 6455 section 1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptKeyLen is the length of a Sec-WebSocket-Accept value (base64 of a
// SHA-1 sum).
const acceptKeyLen = 28

// appendAcceptKey appends the Sec-WebSocket-Accept value for key.
func appendAcceptKey(b []byte, key []byte) []byte {
	var in [64]byte
	sum := sha1.Sum(append(append(in[:0], key...), acceptGUID...))
	return base64.StdEncoding.AppendEncode(b, sum[:])
}

// AcceptKey returns the Sec-WebSocket-Accept value a server sends for the
// client's Sec-WebSocket-Key (RFC 6455 section 4.2.2).
func AcceptKey(key string) string {
	var b [acceptKeyLen]byte
	return string(appendAcceptKey(b[:0], []byte(key)))
}

// errHeadTooLarge is returned by readHead when buf filled up before the end
// of the HTTP head.
var errHeadTooLarge = io.ErrShortBuffer

// readHead reads from r into buf until buf holds a full HTTP head (ending in
// CRLF CRLF). It returns the head's length including the blank line and the
// number of bytes read, which may go past the head. It reads at most
// len(buf) bytes and fails with errHeadTooLarge when the head does not fit.
// A peer that closes before sending a byte gives io.EOF, one that closes
// within the head io.ErrUnexpectedEOF.
func readHead(r io.Reader, buf []byte) (headLen, n int, err error) {
	for n < len(buf) {
		m, rerr := r.Read(buf[n:])
		from := max(n-3, 0)
		n += m
		if i := bytes.Index(buf[from:n], []byte("\r\n\r\n")); i >= 0 {
			return from + i + 4, n, nil
		}
		if rerr != nil {
			if rerr == io.EOF && n > 0 {
				rerr = io.ErrUnexpectedEOF // a head cut short; EOF alone: the peer sent nothing
			}
			return 0, n, rerr
		}
	}
	return 0, n, errHeadTooLarge
}

// nextLine splits the first CRLF-terminated line off head.
func nextLine(head []byte) (line, rest []byte) {
	i := bytes.Index(head, []byte("\r\n"))
	if i < 0 {
		return head, nil
	}
	return head[:i], head[i+2:]
}

// splitHeader splits a header line into its name and trimmed value. ok is
// false when the line is not "token: value" or the value holds a control
// character other than tab.
func splitHeader(line []byte) (name, value []byte, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return nil, nil, false
	}
	name = line[:i]
	for _, c := range name {
		if !isTokenChar(c) {
			return nil, nil, false
		}
	}
	value = trimOWS(line[i+1:])
	for _, c := range value {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return nil, nil, false
		}
	}
	return name, value, true
}

// isTokenChar reports whether c may appear in an HTTP token (RFC 9110 5.6.2).
func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// trimOWS trims spaces and tabs on both ends of b.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold reports whether b equals the ASCII string s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated list v contains token,
// ignoring case and optional whitespace.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var item []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			item, v = v, nil
		}
		if equalFold(trimOWS(item), token) {
			return true
		}
	}
	return false
}
