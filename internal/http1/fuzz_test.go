package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"testing"
)

// parseConn is a connection whose reads come from data; its socket is one
// end of an in-memory pipe that nothing reads.
func parseConn(t *testing.T, data []byte) *conn {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	c := newConn(&Server{MaxHeaderBytes: 4096}, a)
	c.br = bufio.NewReaderSize(bytes.NewReader(data), readBufSize)
	return c
}

// addSeeds adds the requests of the server tests to f's corpus.
func addSeeds(f *testing.F) {
	for _, tt := range sameAsStd {
		f.Add([]byte(tt.raw))
	}
	f.Add([]byte(pushRequest))
	f.Add([]byte(pushRequest + pushRequest))
}

// FuzzReadHead parses arbitrary bytes as requests, as many as they hold:
// it must not panic, and what it accepts must be well formed and what
// net/http reads the same way: method, path, query, host and body.
func FuzzReadHead(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := parseConn(t, data)
		std := bufio.NewReader(bytes.NewReader(data))
		for range 4 {
			if c.readHead() != nil {
				return
			}
			c.body.sendContinue = false
			body, err := io.ReadAll(io.LimitReader(&c.body, 1<<20))
			checkRequest(t, &c.req, body, err)
			sr, serr := http.ReadRequest(std)
			if serr != nil {
				t.Fatalf("accepted what net/http refuses (%v): %q", serr, data)
			}
			sbody, sberr := io.ReadAll(io.LimitReader(sr.Body, 1<<20))
			if (err == nil) != (sberr == nil) || err == nil && !bytes.Equal(body, sbody) {
				t.Fatalf("body %q (%v), net/http %q (%v): %q", body, err, sbody, sberr, data)
			}
			r := &c.req
			if r.Method != sr.Method || r.URL.Path != sr.URL.Path || r.URL.RawQuery != sr.URL.RawQuery ||
				r.Host != sr.Host || r.ContentLength != sr.ContentLength {
				t.Fatalf("read %s %q ? %q host %q len %d, net/http %s %q ? %q host %q len %d: %q",
					r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.ContentLength,
					sr.Method, sr.URL.Path, sr.URL.RawQuery, sr.Host, sr.ContentLength, data)
			}
			if err != nil || !c.finishBody() {
				return
			}
			c.reset()
		}
	})
}

// checkRequest fails t unless r is well formed.
func checkRequest(t *testing.T, r *http.Request, body []byte, bodyErr error) {
	t.Helper()
	if r.Method == "" || !isToken(r.Method) || r.URL == nil || r.ProtoMajor != 1 || r.ProtoMinor > 9 {
		t.Fatalf("bad request line: %q %v %d.%d", r.Method, r.URL, r.ProtoMajor, r.ProtoMinor)
	}
	for name, values := range r.Header {
		if name != textproto.CanonicalMIMEHeaderKey(name) || !isToken(name) {
			t.Fatalf("header name %q", name)
		}
		for _, v := range values {
			if !validValue([]byte(v)) {
				t.Fatalf("header %s value %q", name, v)
			}
		}
	}
	if bodyErr == nil && r.ContentLength >= 0 && int64(len(body)) != r.ContentLength {
		t.Fatalf("body of %d bytes, Content-Length %d", len(body), r.ContentLength)
	}
}

// FuzzChunked reads arbitrary bytes as a chunked body: it must not panic,
// and a body it reads to its end must be what net/http/httputil's chunked
// reader makes of the same bytes.
func FuzzChunked(f *testing.F) {
	for _, s := range []string{
		"5\r\nhello\r\n0\r\n\r\n",
		"5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nTrailer: x\r\n\r\n",
		"A\r\n0123456789\r\n0\r\n\r\n",
		"0\r\n\r\n",
		"zz\r\n",
		"2\r\nhiXX0\r\n\r\n",
		"ffffffffffffffffff\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := parseConn(t, data)
		c.body.start()
		c.body.chunked = true
		got, err := io.ReadAll(&c.body)
		if err != nil {
			if !errors.Is(err, ErrChunked) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error %v, want ErrChunked or io.ErrUnexpectedEOF", err)
			}
			return
		}
		want, werr := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(data)))
		if werr != nil || !bytes.Equal(got, want) {
			t.Fatalf("read %q, httputil %q (%v): %q", got, want, werr, data)
		}
	})
}

// exhaustible reads data and then records that it was asked for more.
type exhaustible struct {
	data []byte
	over bool // a read came after data ran out
}

// Read implements io.Reader.
func (r *exhaustible) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		r.over = true
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// FuzzHeadBuffered checks the promise the server's reads inside
// RawConn.Read rely on: when headBuffered says the buffer holds a whole
// head, readHead parses it (or refuses it) without reading further, and
// when bodyBuffered says the body is there, it reads to its end without
// reading further either.
func FuzzHeadBuffered(f *testing.F) {
	addSeeds(f)
	f.Add([]byte("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\nHost: a\n\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := parseConn(t, nil)
		src := &exhaustible{data: data}
		c.br = bufio.NewReaderSize(src, readBufSize)
		if _, err := c.br.Peek(min(len(data), readBufSize)); err != nil && len(data) > 0 {
			t.Fatalf("fill: %v", err)
		}
		src.over = false
		if !c.headBuffered() {
			return
		}
		if c.readHead() == nil && c.bodyBuffered() {
			if _, err := io.ReadAll(&c.body); err != nil {
				t.Fatalf("buffered body: %v: %q", err, data)
			}
		}
		if src.over {
			t.Fatalf("headBuffered held, yet the parse read past the buffer: %q", data)
		}
	})
}
