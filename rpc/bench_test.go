package rpc

import (
	"context"
	"net"
	"net/rpc"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
)

// benchPayload is the size of the payloads the round-trip benchmarks send.
const benchPayload = 64

func benchServerClient(b *testing.B, setup func(*Server)) *Client {
	b.Helper()
	ts := startServer(b, "", ServerConfig{}, nil, setup)
	c := newTestClient(b, ts.addr, ClientConfig{})
	if _, err := c.Call(context.Background(), 1, nil, nil); err != nil {
		b.Fatal(err)
	}
	return c
}

func reportRate(b *testing.B, n int64, unit string) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), unit)
}

// BenchmarkCall is one caller making calls one after the other over
// loopback.
func BenchmarkCall(b *testing.B) {
	c := benchServerClient(b, func(s *Server) { s.Handle(1, echo) })
	ctx := context.Background()
	req := make([]byte, benchPayload)
	reply := make([]byte, 0, benchPayload)
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if reply, err = c.Call(ctx, 1, req, reply[:0]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportRate(b, n, "calls/s")
}

// benchParallelism times GOMAXPROCS is the number of callers of the
// parallel benchmarks.
const benchParallelism = 8

// BenchmarkCallParallel is 8*GOMAXPROCS callers sharing one client. It
// reports how many frames one write carries on each side: calls (client)
// and replies (server) of concurrent callers are coalesced.
func BenchmarkCallParallel(b *testing.B) {
	ts := startServer(b, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, echo) })
	c := newTestClient(b, ts.addr, ClientConfig{})
	if _, err := c.Call(context.Background(), 1, nil, nil); err != nil {
		b.Fatal(err)
	}
	cs0, ss0 := c.Stats(), ts.Stats()
	var n atomic.Int64
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		req := make([]byte, benchPayload)
		reply := make([]byte, 0, benchPayload)
		for pb.Next() {
			var err error
			if reply, err = c.Call(ctx, 1, req, reply[:0]); err != nil {
				b.Error(err)
				return
			}
			n.Add(1)
		}
	})
	reportRate(b, n.Load(), "calls/s")
	cs, ss := c.Stats(), ts.Stats()
	b.ReportMetric(perWrite(cs.FramesOut-cs0.FramesOut, cs.Writes-cs0.Writes), "calls/write")
	b.ReportMetric(perWrite(ss.FramesOut-ss0.FramesOut, ss.Writes-ss0.Writes), "replies/write")
}

// perWrite is frames per write; 0 without writes.
func perWrite(frames, writes uint64) float64 {
	if writes == 0 {
		return 0
	}
	return float64(frames) / float64(writes)
}

// BenchmarkSend measures one-way throughput from one goroutine: the timer
// stops only when the server has handled every message.
func BenchmarkSend(b *testing.B) {
	var got atomic.Int64
	c := benchServerClient(b, func(s *Server) {
		s.Handle(1, echo)
		s.HandleOneway(2, func(context.Context, []byte) error { got.Add(1); return nil })
	})
	ctx := context.Background()
	payload := make([]byte, benchPayload)
	var sent int64
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Send(ctx, 2, payload); err != nil {
			b.Fatal(err)
		}
		sent++
	}
	b.StartTimer()
	testwait.For(b, 30*time.Second, "the server to get every message", func() bool { return got.Load() == sent })
	b.StopTimer()
	reportRate(b, sent, "frames/s")
	st := c.Stats()
	b.ReportMetric(perWrite(st.FramesOut, st.Writes), "frames/write")
}

// BenchmarkSendParallel is 8*GOMAXPROCS goroutines sending on one client.
func BenchmarkSendParallel(b *testing.B) {
	var got atomic.Int64
	c := benchServerClient(b, func(s *Server) {
		s.Handle(1, echo)
		s.HandleOneway(2, func(context.Context, []byte) error { got.Add(1); return nil })
	})
	var sent atomic.Int64
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		payload := make([]byte, benchPayload)
		for pb.Next() {
			if err := c.Send(ctx, 2, payload); err != nil {
				b.Error(err)
				return
			}
			sent.Add(1)
		}
	})
	testwait.For(b, 30*time.Second, "the server to get every message", func() bool { return got.Load() == sent.Load() })
	b.StopTimer()
	reportRate(b, sent.Load(), "frames/s")
	st := c.Stats()
	b.ReportMetric(perWrite(st.FramesOut, st.Writes), "frames/write")
}

// Echo is the net/rpc baseline service.
type Echo struct{}

// Echo replies with its argument.
func (Echo) Echo(req []byte, reply *[]byte) error {
	*reply = append((*reply)[:0], req...)
	return nil
}

func netRPCClient(b *testing.B) *rpc.Client {
	b.Helper()
	srv := rpc.NewServer()
	if err := srv.Register(Echo{}); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		if nc, err := ln.Accept(); err == nil {
			srv.ServeConn(nc) // until the client closes
		}
	}()
	c, err := rpc.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		c.Close()
		<-served
	})
	return c
}

// BenchmarkNetRPCCall is the standard library's net/rpc (gob) doing what
// BenchmarkCall does: the baseline.
func BenchmarkNetRPCCall(b *testing.B) {
	c := netRPCClient(b)
	req := make([]byte, benchPayload)
	var reply []byte
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Call("Echo.Echo", req, &reply); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportRate(b, n, "calls/s")
}

// BenchmarkNetRPCCallParallel is the baseline of BenchmarkCallParallel.
func BenchmarkNetRPCCallParallel(b *testing.B) {
	c := netRPCClient(b)
	var n atomic.Int64
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := make([]byte, benchPayload)
		var reply []byte
		for pb.Next() {
			if err := c.Call("Echo.Echo", req, &reply); err != nil {
				b.Error(err)
				return
			}
			n.Add(1)
		}
	})
	reportRate(b, n.Load(), "calls/s")
}

// benchMessage is shaped like a push: keys, a room, an op and a body.
type benchMessage struct {
	keys   []string
	room   string
	op     int32
	seq    int64
	online map[string]int32
	body   []byte
}

func newBenchMessage() benchMessage {
	return benchMessage{
		keys:   []string{"2f9c1b0e-key-one", "7a3d5e11-key-two", "c0ffee00-key-three"},
		room:   "live://1000",
		op:     9,
		seq:    123456789,
		online: map[string]int32{"live://1000": 1234},
		body:   make([]byte, 256),
	}
}

func (m *benchMessage) append(b []byte) []byte {
	b = AppendStrings(b, m.keys)
	b = AppendString(b, m.room)
	b = AppendVarint(b, int64(m.op))
	b = AppendVarint(b, m.seq)
	b = AppendStringInt32Map(b, m.online)
	return AppendBytes(b, m.body)
}

func BenchmarkPayloadEncode(b *testing.B) {
	m := newBenchMessage()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.append(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkPayloadDecode decodes the message of BenchmarkPayloadEncode;
// the strings, slices and map it builds are its allocations.
func BenchmarkPayloadDecode(b *testing.B) {
	m := newBenchMessage()
	p := m.append(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		d := NewDecoder(p)
		_ = d.Strings()
		_ = d.String()
		_ = d.Int32()
		_ = d.Varint()
		_ = d.StringInt32Map()
		_ = d.Bytes()
		if err := d.Finish(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPayloadDecodeScalars decodes scalars and aliased bytes only:
// the zero-allocation path.
func BenchmarkPayloadDecodeScalars(b *testing.B) {
	var p []byte
	p = AppendUvarint(p, 1<<40)
	p = AppendVarint(p, -5)
	p = AppendBool(p, true)
	p = AppendBytes(p, make([]byte, 256))
	b.ReportAllocs()
	for b.Loop() {
		d := NewDecoder(p)
		_ = d.Uvarint()
		_ = d.Int32()
		_ = d.Bool()
		_ = d.Bytes()
		if err := d.Finish(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConnect is the cost of a new connection and its first call
// (dial, handshakes, one round trip, close), plain and with each security
// option: paid once per connection, not per message.
func BenchmarkConnect(b *testing.B) {
	pki := newTestPKI(b, "bench")
	tlsServer, err := ServerTLSConfig(pki.certFile, pki.keyFile, pki.caFile)
	if err != nil {
		b.Fatal(err)
	}
	tlsClient, err := ClientTLSConfig(pki.certFile, pki.keyFile, pki.caFile)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		server ServerConfig
		client ClientConfig
	}{
		{"plain", ServerConfig{}, ClientConfig{}},
		{"secret", ServerConfig{Secret: secretA}, ClientConfig{Secret: secretA}},
		{"mTLS", ServerConfig{TLSConfig: tlsServer}, ClientConfig{TLSConfig: tlsClient}},
		{"mTLS+secret", ServerConfig{TLSConfig: tlsServer, Secret: secretA}, ClientConfig{TLSConfig: tlsClient, Secret: secretA}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ts := startServer(b, "", bc.server, nil, func(s *Server) { s.Handle(1, echo) })
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				c := NewClient(ts.addr, bc.client, discardLogger())
				if _, err := c.Call(ctx, 1, nil, nil); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}
