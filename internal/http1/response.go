package http1

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// response is the http.ResponseWriter of a connection, reset per request.
// The answer is buffered whole and written with a Content-Length.
type response struct {
	c          *conn
	header     http.Header
	status     int    // 0 until WriteHeader
	hasType    bool   // the header held Content-Type at WriteHeader
	hasDate    bool   // the header held Date at WriteHeader
	closeAfter bool   // the header said "Connection: close"
	head       []byte // status line and the handler's headers, made at WriteHeader
	body       []byte // the body, empty for HEAD
	written    int    // body bytes written, HEAD included
}

// Header returns the answer's header map; changes after WriteHeader (or
// the first Write) are not sent.
func (w *response) Header() http.Header { return w.header }

// WriteHeader records the status and snapshots the header. Informational
// codes (1xx) are dropped: this server does not send them.
func (w *response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("http1: invalid WriteHeader code %d", code))
	}
	if w.status != 0 || code < 200 {
		return
	}
	w.status = code
	w.head = appendStatusLine(w.head[:0], code)
	for name, values := range w.header {
		switch name {
		case "Content-Length", "Transfer-Encoding":
			continue // the server sets its own
		case "Content-Type":
			w.hasType = true
		case "Date":
			w.hasDate = true
		case "Connection":
			for _, v := range values {
				w.closeAfter = w.closeAfter || hasToken(v, "close")
			}
		}
		if !isToken(name) {
			continue
		}
		for _, v := range values {
			w.head = append(w.head, name...)
			w.head = append(w.head, ": "...)
			w.head = appendValue(w.head, v)
			w.head = append(w.head, "\r\n"...)
		}
	}
}

// Write buffers p as body, after WriteHeader(200) if no status was set.
func (w *response) Write(p []byte) (int, error) { return writeBody(w, p) }

// WriteString is Write for a string, without converting it.
func (w *response) WriteString(s string) (int, error) { return writeBody(w, s) }

// writeBody buffers p as w's body (counts it only, for HEAD).
func writeBody[T string | []byte](w *response, p T) (int, error) {
	if !w.startBody() {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += len(p)
	if w.c.req.Method != http.MethodHead {
		w.body = append(w.body, p...)
	}
	return len(p), nil
}

// startBody sets status 200 if none was set and reports whether the
// status allows a body.
func (w *response) startBody() bool {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return bodyAllowed(w.status)
}

// reset readies w for the next request, keeping buffers of reasonable
// size.
func (w *response) reset() {
	clear(w.header)
	if cap(w.head) > maxKeptBuf {
		w.head = nil
	}
	if cap(w.body) > maxKeptBuf {
		w.body = nil
	}
	*w = response{c: w.c, header: w.header, head: w.head[:0], body: w.body[:0]}
}

// writeAnswer writes the buffered answer: the handler's status line and
// headers, then Content-Length, Content-Type sniffed from the body when
// the handler set none, Date and Connection, then the body, in one write.
// It reports whether the write succeeded in time.
func (c *conn) writeAnswer(keep bool) bool {
	w := &c.w
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	out := append(c.out[:0], w.head...)
	if bodyAllowed(w.status) {
		out = append(out, "Content-Length: "...)
		out = strconv.AppendInt(out, int64(w.written), 10)
		out = append(out, "\r\n"...)
		if !w.hasType && len(w.body) > 0 {
			out = append(out, "Content-Type: "...)
			out = append(out, http.DetectContentType(w.body)...)
			out = append(out, "\r\n"...)
		}
	}
	if !w.hasDate {
		out = append(out, *c.srv.date.Load()...)
	}
	switch {
	case !keep && !w.closeAfter:
		out = append(out, "Connection: close\r\n"...)
	case keep && c.req.ProtoMinor == 0:
		out = append(out, "Connection: keep-alive\r\n"...)
	}
	out = append(out, "\r\n"...)
	out = append(out, w.body...)
	c.out = out
	return c.write(out)
}

// writeFailure answers a request the server refuses before the handler,
// as net/http does ("HTTP/1.1 400 Bad Request: why", the same text as
// body), and closes the connection after.
func (c *conn) writeFailure(e *headError) {
	text := strconv.Itoa(e.status) + " " + http.StatusText(e.status) + ": " + e.msg
	out := append(c.out[:0], "HTTP/1.1 "...)
	out = append(out, text...)
	out = append(out, "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(text)), 10)
	out = append(out, "\r\n"...)
	out = append(out, *c.srv.date.Load()...)
	out = append(out, "\r\n"...)
	out = append(out, text...)
	c.out = out
	c.write(out)
}

// write writes b unless WriteTimeout has passed since the request began;
// the sweeper bounds the write itself. It reports success.
func (c *conn) write(b []byte) bool {
	if d := c.srv.WriteTimeout; d > 0 && c.srv.now.Load()-c.reqStart > int64(d) {
		return false
	}
	c.setPhase(phaseWrite, c.reqStart)
	_, err := c.nc.Write(b)
	return err == nil
}

// appendStatusLine appends "HTTP/1.1 code text\r\n".
func appendStatusLine(b []byte, code int) []byte {
	if code == http.StatusOK {
		return append(b, "HTTP/1.1 200 OK\r\n"...)
	}
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	if text := http.StatusText(code); text != "" {
		b = append(b, text...)
	} else {
		b = append(b, "status code "...)
		b = strconv.AppendInt(b, int64(code), 10)
	}
	return append(b, "\r\n"...)
}

// appendValue appends a header value with CR and LF turned into spaces,
// so that a value cannot end the header.
func appendValue(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		ch := v[i]
		if ch == '\r' || ch == '\n' {
			ch = ' '
		}
		b = append(b, ch)
	}
	return b
}

// bodyAllowed reports whether an answer with status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}
