package http1

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
)

// pushRequest is a push as the load generator sends it.
const pushRequest = "POST /goim/push/keys?operation=1000&keys=key-1 HTTP/1.1\r\nHost: 127.0.0.1:3111\r\n" +
	"User-Agent: bench\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\n\r\nhello"

// pushHandler answers like the push API: it reads the body into its own
// buffer and writes a small JSON answer with a shared Content-Type.
func pushHandler() http.Handler {
	jsonType := []string{"application/json; charset=utf-8"}
	answer := []byte(`{"code":0,"message":"","data":{"conns":1,"comets":1}}`)
	bufs := sync.Pool{New: func() any { return new([64]byte) }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := bufs.Get().(*[64]byte)
		defer bufs.Put(buf)
		n := 0
		for n < len(buf) {
			m, err := r.Body.Read(buf[n:])
			n += m
			if err != nil {
				break
			}
		}
		if r.URL.RawQuery == "" || n != 5 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header()["Content-Type"] = jsonType
		w.WriteHeader(http.StatusOK)
		w.Write(answer)
	})
}

// rawClient sends preformatted requests on one connection and reads each
// answer whole, without allocating.
type rawClient struct {
	nc  net.Conn
	buf []byte
}

func dialRaw(tb testing.TB, addr string) *rawClient {
	tb.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	return &rawClient{nc: nc, buf: make([]byte, 0, 4096)}
}

var errShort = errors.New("answer cut short")

// roundTrip writes req and reads one answer; it returns the status code.
func (c *rawClient) roundTrip(req []byte) (int, error) {
	if _, err := c.nc.Write(req); err != nil {
		return 0, err
	}
	c.buf = c.buf[:0]
	for {
		if status, ok := c.complete(); ok {
			return status, nil
		}
		if len(c.buf) == cap(c.buf) {
			return 0, errShort
		}
		n, err := c.nc.Read(c.buf[len(c.buf):cap(c.buf)])
		c.buf = c.buf[:len(c.buf)+n]
		if err != nil {
			return 0, err
		}
	}
}

// complete reports whether buf holds a whole answer, and its status.
func (c *rawClient) complete() (int, bool) {
	end := bytes.Index(c.buf, []byte("\r\n\r\n"))
	if end < 0 || len(c.buf) < len("HTTP/1.1 200") {
		return 0, false
	}
	head := c.buf[:end]
	length := 0
	if i := bytes.Index(head, []byte("\r\nContent-Length: ")); i >= 0 {
		v := head[i+len("\r\nContent-Length: "):]
		if j := bytes.IndexByte(v, '\r'); j >= 0 {
			v = v[:j]
		}
		for _, d := range v {
			length = length*10 + int(d-'0')
		}
	}
	if len(c.buf) < end+4+length {
		return 0, false
	}
	status := 0
	for _, d := range c.buf[len("HTTP/1.1 "):len("HTTP/1.1 200")] {
		status = status*10 + int(d-'0')
	}
	return status, true
}

// benchServers make the servers the benchmarks compare, afresh for each
// round (a round's cleanup closes its server).
var benchServers = []struct {
	name string
	srv  func() server
}{
	{"http1", func() server { return &Server{Handler: pushHandler(), ReadTimeout: 30e9, WriteTimeout: 30e9} }},
	{"net-http", func() server { return &http.Server{Handler: pushHandler(), ReadTimeout: 30e9, WriteTimeout: 30e9} }},
}

// BenchmarkServe is one push-sized request and answer on a keep-alive
// connection, through this package's server and net/http's, same handler.
func BenchmarkServe(b *testing.B) {
	for _, tt := range benchServers {
		b.Run(tt.name, func(b *testing.B) {
			c := dialRaw(b, serve(b, tt.srv()))
			req := []byte(pushRequest)
			b.ReportAllocs()
			for b.Loop() {
				if status, err := c.roundTrip(req); err != nil || status != 200 {
					b.Fatalf("status %d, err %v", status, err)
				}
			}
		})
	}
}

// BenchmarkServeParallel is BenchmarkServe with one connection per
// goroutine, GOMAXPROCS or -cpu of them at once.
func BenchmarkServeParallel(b *testing.B) {
	for _, tt := range benchServers {
		b.Run(tt.name, func(b *testing.B) {
			addr := serve(b, tt.srv())
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				c := dialRaw(b, addr)
				req := []byte(pushRequest)
				for pb.Next() {
					if status, err := c.roundTrip(req); err != nil || status != 200 {
						b.Errorf("status %d, err %v", status, err)
						return
					}
				}
			})
		})
	}
}
