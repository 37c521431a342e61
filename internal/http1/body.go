package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
)

// ErrChunked reports a malformed chunked request body.
var ErrChunked = errors.New("http1: malformed chunked body")

// continueLine is the interim answer to "Expect: 100-continue".
const continueLine = "HTTP/1.1 100 Continue\r\n\r\n"

// maxChunkSize bounds a chunk's declared size, well inside int64.
const maxChunkSize = 1 << 40

// body is a request body read from the connection: Content-Length bytes
// or a chunked stream. It is the connection's, reset per request.
type body struct {
	c            *conn
	remain       int64 // bytes left: of the body, or of the current chunk
	chunked      bool  // the body is chunked
	chunkCRLF    bool  // a chunk's data ended; its CRLF is still to read
	sendContinue bool  // "100 Continue" is owed before the first read
	done         bool  // read to its end
	closed       bool  // closed by the handler
	err          error // a read failure, returned again
}

// start resets b for a request.
func (b *body) start() { *b = body{c: b.c} }

// Read reads the body. It sends the owed "100 Continue" first and counts
// the wait against ReadTimeout.
func (b *body) Read(p []byte) (int, error) {
	switch {
	case b.closed:
		return 0, http.ErrBodyReadAfterClose
	case b.done:
		return 0, io.EOF
	case b.err != nil:
		return 0, b.err
	case len(p) == 0:
		return 0, nil
	}
	c := b.c
	if b.sendContinue {
		b.sendContinue = false
		if _, err := c.nc.Write([]byte(continueLine)); err != nil {
			b.err = err
			return 0, err
		}
	}
	c.setPhase(phaseBody, c.reqStart)
	var n int
	var err error
	if b.chunked {
		n, err = b.readChunked(p)
	} else {
		n, err = b.readLength(p)
	}
	c.setPhase(phaseHandler, c.reqStart)
	if err == io.EOF {
		b.done = true
	} else if err != nil {
		b.err = err
	}
	return n, err
}

// Close marks the body closed; what is left of it is read away or the
// connection closed after the answer.
func (b *body) Close() error {
	b.closed = true
	return nil
}

// readLength reads from a Content-Length body.
func (b *body) readLength(p []byte) (int, error) {
	if int64(len(p)) > b.remain {
		p = p[:b.remain]
	}
	n, err := b.c.br.Read(p)
	b.remain -= int64(n)
	if b.remain == 0 {
		return n, io.EOF
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// readChunked reads from a chunked body: the data of the current chunk,
// after reading the next chunk's size line when the current one is used
// up. The last chunk's trailer is read and dropped.
func (b *body) readChunked(p []byte) (int, error) {
	if b.remain == 0 {
		if err := b.nextChunk(); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > b.remain {
		p = p[:b.remain]
	}
	n, err := b.c.br.Read(p)
	b.remain -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// nextChunk reads the CRLF that ends the previous chunk, if any, and the
// next size line; at the last chunk it reads the trailer and returns
// io.EOF.
func (b *body) nextChunk() error {
	br := b.c.br
	if b.chunkCRLF {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return chunkErr(err)
		}
		if string(line) != "\r\n" {
			return ErrChunked
		}
		b.chunkCRLF = false
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return chunkErr(err)
	}
	if !bytes.HasSuffix(line, []byte("\r\n")) {
		return ErrChunked // a bare LF, refused as net/http does
	}
	line = line[:len(line)-2]
	if bytes.IndexByte(line, '\r') >= 0 {
		return ErrChunked
	}
	size, ok := parseChunkSize(line)
	if !ok {
		return ErrChunked
	}
	if size > 0 {
		b.remain = size
		b.chunkCRLF = true
		return nil
	}
	for total := 0; ; {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return chunkErr(err)
		}
		if !bytes.HasSuffix(line, []byte("\r\n")) {
			return ErrChunked
		}
		if len(line) == 2 {
			return io.EOF
		}
		if !validTrailer(line[:len(line)-2]) {
			return ErrChunked
		}
		if total += len(line); total > b.c.srv.headLimit() {
			return ErrChunked
		}
	}
}

// validTrailer reports whether a trailer line is a well-formed header
// line; trailers are read and dropped.
func validTrailer(line []byte) bool {
	name, value, ok := bytes.Cut(line, []byte(":"))
	return ok && len(name) > 0 && isToken(name) && validValue(value)
}

// chunkErr maps a read failure inside chunk framing: a line longer than
// the read buffer is malformed, an early end unexpected.
func chunkErr(err error) error {
	switch {
	case err == io.EOF:
		return io.ErrUnexpectedEOF
	case errors.Is(err, bufio.ErrBufferFull):
		return ErrChunked
	}
	return err
}

// parseChunkSize parses a chunk size line: hex digits, then optional
// extensions after ';', which are ignored; trailing blanks are allowed,
// blanks before ';' are not (as net/http).
func parseChunkSize(line []byte) (int64, bool) {
	line = bytes.TrimRight(line, " \t")
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	if len(line) == 0 || len(line) > 16 {
		return 0, false // empty, or more hex digits than net/http takes
	}
	var n int64
	for _, ch := range line {
		var d byte
		switch {
		case '0' <= ch && ch <= '9':
			d = ch - '0'
		case 'a' <= ch && ch <= 'f':
			d = ch - 'a' + 10
		case 'A' <= ch && ch <= 'F':
			d = ch - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
		if n > maxChunkSize {
			return 0, false
		}
	}
	return n, true
}

// finishBody makes the connection ready for the next request after the
// handler: what the handler left of the body, up to maxDiscard bytes, is
// read away. It reports false when the connection must close instead.
func (c *conn) finishBody() bool {
	b := &c.body
	b.closed = false
	switch {
	case c.req.Body == http.NoBody || b.done:
		return true
	case b.err != nil, b.sendContinue:
		// A caller still waiting for "100 Continue" may send the body
		// or not: the connection cannot be read further.
		return false
	case !b.chunked:
		if b.remain > maxDiscard {
			return false
		}
		c.setPhase(phaseBody, c.reqStart)
		_, err := c.br.Discard(int(b.remain))
		return err == nil
	}
	var scratch [512]byte
	for total := 0; total <= maxDiscard; {
		n, err := b.Read(scratch[:])
		total += n
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
	return false
}
