package rpc

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Kind is the kind of a frame, its first header byte.
type Kind uint8

// Frame kinds, as sent on the wire.
const (
	KindCall   Kind = 1 // a request that expects a KindReply or KindError with its seq
	KindReply  Kind = 2 // a successful answer; the payload is the handler's reply
	KindError  Kind = 3 // a failed answer; the payload is the error code (uint16) and text
	KindOneway Kind = 4 // a message answered only when it fails; seq is a tag the sender chose
	// KindOnewayError reports a failed one-way message to its sender: the
	// method and seq (tag) of the message, the payload as in KindError.
	KindOnewayError Kind = 5
)

// DefaultMaxFrameSize is the largest frame length field accepted when a
// config leaves MaxFrameSize zero.
const DefaultMaxFrameSize = 16 << 20

const (
	prefixLen = 4                     // the uint32 length field
	headerLen = 7                     // kind, method, seq: what the length counts besides the payload
	frameHead = prefixLen + headerLen // bytes before the payload
)

// header is a decoded frame header.
type header struct {
	kind   Kind
	method uint16
	seq    uint32
}

// appendFrame appends one whole frame carrying payload to b.
func appendFrame(b []byte, h header, payload []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(headerLen+len(payload)))
	b = append(b, byte(h.kind))
	b = binary.BigEndian.AppendUint16(b, h.method)
	b = binary.BigEndian.AppendUint32(b, h.seq)
	return append(b, payload...)
}

// parseHead decodes the first frameHead bytes of a frame and returns its
// header and payload size. The length field must be at least headerLen and at
// most maxFrame, and the kind one of the five known.
func parseHead(b []byte, maxFrame int) (header, int, error) {
	n := binary.BigEndian.Uint32(b)
	if n < headerLen {
		return header{}, 0, fmt.Errorf("%w: length %d under header size %d", ErrMalformedFrame, n, headerLen)
	}
	if uint64(n) > uint64(maxFrame) {
		return header{}, 0, fmt.Errorf("%w: length %d over %d", ErrFrameTooLarge, n, maxFrame)
	}
	h := header{
		kind:   Kind(b[4]),
		method: binary.BigEndian.Uint16(b[5:]),
		seq:    binary.BigEndian.Uint32(b[7:]),
	}
	if h.kind < KindCall || h.kind > KindOnewayError {
		return header{}, 0, fmt.Errorf("%w: kind %d", ErrMalformedFrame, h.kind)
	}
	return h, int(n) - headerLen, nil
}

// maxScratch is the largest scratch buffer a frameReader keeps between
// frames; a bigger one is released once its frame was handled.
const maxScratch = 1 << 20

// frameReader reads frames from a buffered connection. A payload that fits
// in the bufio.Reader's buffer is returned in place (no copy); a bigger one
// is read into a scratch buffer. Either is valid until the next call of
// next. A frameReader is used by one goroutine.
type frameReader struct {
	r        *bufio.Reader
	maxFrame int
	skip     int    // bytes of the previous payload still to discard from r
	scratch  []byte // holds a payload bigger than r's buffer
}

// next returns the next frame. It returns io.EOF for a stream that ended
// between frames, io.ErrUnexpectedEOF for one that ended inside a frame,
// and ErrMalformedFrame or ErrFrameTooLarge for a bad header.
func (fr *frameReader) next() (header, []byte, error) {
	if fr.skip > 0 {
		fr.r.Discard(fr.skip) // the bytes are buffered: cannot fail
		fr.skip = 0
	}
	if cap(fr.scratch) > maxScratch {
		fr.scratch = nil
	}
	b, err := fr.r.Peek(frameHead)
	if err != nil {
		return header{}, nil, eofIn(err, len(b) > 0)
	}
	h, n, err := parseHead(b, fr.maxFrame)
	if err != nil {
		return header{}, nil, err
	}
	fr.r.Discard(frameHead)
	if n <= fr.r.Size() {
		p, err := fr.r.Peek(n)
		if err != nil {
			return header{}, nil, eofIn(err, true)
		}
		fr.skip = n
		return h, p, nil
	}
	p, err := fr.readBig(n)
	if err != nil {
		return header{}, nil, eofIn(err, true)
	}
	return h, p, nil
}

// readBig reads a payload of n bytes, more than r's buffer holds, into the
// scratch buffer. It never allocates ahead of what arrived: nothing until
// r's buffer is full, then a buffer twice what arrived, doubled each time
// it fills, up to n. So a peer that claims a large frame and sends little
// of it holds no more than twice what it sent (plus a scratch buffer kept
// from an earlier frame).
func (fr *frameReader) readBig(n int) ([]byte, error) {
	if cap(fr.scratch) == 0 {
		if _, err := fr.r.Peek(fr.r.Size()); err != nil {
			return nil, err
		}
	}
	buf := fr.scratch[:0]
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(n, max(2*len(buf), 2*fr.r.Size()))-len(buf))
		}
		m, err := io.ReadFull(fr.r, buf[len(buf):min(n, cap(buf))])
		buf = buf[:len(buf)+m]
		if err != nil {
			fr.scratch = buf[:0]
			return nil, err
		}
	}
	fr.scratch = buf[:0]
	return buf, nil
}

// eofIn turns io.EOF into io.ErrUnexpectedEOF when it came inside a frame.
func eofIn(err error, inFrame bool) error {
	if inFrame && errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
