package websocket

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/goimx/goim/internal/leaktest"
)

// TestMain fails the run when goroutines started by the tests (of this
// package, x/net/websocket or an HTTP test server) outlive them.
func TestMain(m *testing.M) {
	leaktest.Main(m, 5*time.Second,
		"github.com/goimx/goim/websocket", "golang.org/x/net/websocket", "net/http.(*conn).serve")
}

// fakeConn is a net.Conn reading from r and recording writes in w. Methods
// other than Read, Write and Close are not used by Conn and panic.
type fakeConn struct {
	net.Conn
	r io.Reader
	w bytes.Buffer
}

func (f *fakeConn) Read(p []byte) (int, error)  { return f.r.Read(p) }
func (f *fakeConn) Write(p []byte) (int, error) { return f.w.Write(p) }
func (f *fakeConn) Close() error                { return nil }

// testKey is the masking key used for frames built by tests (from the RFC
// 6455 section 5.7 examples).
var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// waitTimeout bounds every wait for a condition.
const waitTimeout = 10 * time.Second

// clientFrame returns one masked frame, as a client sends it.
func clientFrame(fin bool, op Opcode, payload []byte) []byte {
	b := AppendFrameHeader(nil, fin, op, &testKey, len(payload))
	start := len(b)
	b = append(b, payload...)
	Mask(testKey, 0, b[start:])
	return b
}

// serverFrame returns one unmasked frame, as a server sends it.
func serverFrame(fin bool, op Opcode, payload []byte) []byte {
	b := AppendFrameHeader(nil, fin, op, nil, len(payload))
	return append(b, payload...)
}

// closePayload returns a close frame payload.
func closePayload(code uint16, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

// frame is one decoded frame, payload unmasked.
type frame struct {
	h       FrameHeader
	payload []byte
}

// parseFrames decodes a stream of complete frames, failing the test on
// trailing garbage.
func parseFrames(t testing.TB, b []byte) []frame {
	t.Helper()
	var out []frame
	for len(b) > 0 {
		h, n, err := ParseFrameHeader(b)
		if err != nil || int64(len(b)-n) < h.Length {
			t.Fatalf("parseFrames: bad frame in % x: %v", b, err)
		}
		p := bytes.Clone(b[n : n+int(h.Length)])
		if h.Masked {
			Mask(h.Key, 0, p)
		}
		out = append(out, frame{h, p})
		b = b[n+int(h.Length):]
	}
	return out
}

// chunkReader returns data in reads of at most size bytes; cuts, when set,
// lists offsets at which reads must stop.
type chunkReader struct {
	data []byte
	off  int
	size int
	cuts []int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.off == len(r.data) {
		return 0, io.EOF
	}
	end := len(r.data)
	if r.size > 0 {
		end = min(end, r.off+r.size)
	}
	for _, c := range r.cuts {
		if c > r.off && c < end {
			end = c
		}
	}
	n := copy(p, r.data[r.off:end])
	r.off += n
	return n, nil
}

// loopReader returns data endlessly, wrapping around, for benchmarks.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off += n
	if r.off == len(r.data) {
		r.off = 0
	}
	return n, nil
}

// discardConn is a net.Conn that discards writes, reading from r.
type discardConn struct {
	net.Conn
	r io.Reader
}

func (d *discardConn) Read(p []byte) (int, error)  { return d.r.Read(p) }
func (d *discardConn) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardConn) Close() error                { return nil }
