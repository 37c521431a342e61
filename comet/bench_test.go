package comet

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/rpc"
	"github.com/goimx/goim/websocket"
)

// BenchmarkRoomFanout pushes b.N messages to a room of N real loopback
// connections read by in-process clients, and reports delivered messages
// per second. allocs/op is per message, for the whole process (the
// clients read into fixed buffers and do not allocate). Messages go out
// in windows of 256 so the send queues never overflow; the timer stops
// only once every client got every message. In tcp-1000-joined the room
// is one the clients joined besides their own primary rooms (the token's
// rooms), the other list of a room's members. The -net cases keep the
// sockets in the net package (Config.NetConns), for comparing with the
// default, where the comet owns them.
func BenchmarkRoomFanout(b *testing.B) {
	for _, n := range []int{100, 1000} {
		for _, ws := range []bool{false, true} {
			name := "tcp"
			if ws {
				name = "ws"
			}
			b.Run(fmt.Sprintf("%s-%d", name, n), func(b *testing.B) { benchFanout(b, ws, n, false, false) })
			if n == 1000 {
				b.Run(fmt.Sprintf("%s-%d-net", name, n), func(b *testing.B) { benchFanout(b, ws, n, false, true) })
			}
		}
	}
	b.Run("tcp-1000-joined", func(b *testing.B) { benchFanout(b, false, 1000, true, false) })
}

func benchFanout(b *testing.B, ws bool, n int, joined, netConns bool) {
	const window = 256
	s := startServer(b, withoutLimits(Config{SendQueue: 2 * window, NetConns: netConns}), &fakeLogic{})
	body := make([]byte, 64)
	batch := protocol.AppendPush(nil, 1000, body)
	msgLen := int64(len(batch))
	if ws {
		msgLen = int64(len(encodeBatch(batch, 0)))
	}
	counts := make([]atomic.Int64, n) // bytes received per client
	var wg sync.WaitGroup
	for i := range n {
		c := dialTCP(b, s.tcp)
		if ws {
			c = dialWS(b, s.ws)
		}
		tk := token{Key: fmt.Sprint("k", i), RoomID: "live://bench"}
		if joined {
			tk.RoomID, tk.Rooms = fmt.Sprint("live://own", i), []string{"live://bench"}
		}
		c.auth(tk)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.nc.SetReadDeadline(time.Time{})
			buf := make([]byte, 32<<10)
			for {
				k, err := c.r.Read(buf)
				counts[i].Add(int64(k))
				if err != nil {
					return
				}
			}
		}()
	}
	testwait.For(b, waitTimeout, "registration", func() bool { return s.cm.Stats().Conns == n })
	req := &cometrpc.BroadcastRoomReq{RoomID: "live://bench", Batch: batch}
	ctx := context.Background()
	sent := int64(0)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if err := s.cm.BroadcastRoom(ctx, req); err != nil {
			b.Fatal(err)
		}
		if sent++; sent%window == 0 {
			waitBytes(b, counts, sent*msgLen)
		}
	}
	waitBytes(b, counts, sent*msgLen)
	elapsed := time.Since(start)
	b.ReportMetric(float64(sent)*float64(n)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(sent)/elapsed.Seconds(), "msgs/s")
	if st := s.cm.Stats(); len(st.Drops) > 0 {
		b.Errorf("drops: %v", st.Drops)
	}
	s.cm.Close()
	wg.Wait()
}

// waitBytes waits until every client received want bytes.
func waitBytes(b *testing.B, counts []atomic.Int64, want int64) {
	deadline := time.Now().Add(time.Minute)
	for i := range counts {
		for counts[i].Load() < want {
			if time.Now().After(deadline) {
				b.Fatalf("client %d got %d bytes, want %d", i, counts[i].Load(), want)
			}
			runtime.Gosched()
		}
	}
}

// BenchmarkPush measures the comet's own cost of each push kind to 1000
// socket-less connections that take every write at once.
func BenchmarkPush(b *testing.B) {
	body := make([]byte, 64)
	b.Run("keys-1", func(b *testing.B) {
		cm, sinks := sinkComet(b, 1)
		req := &cometrpc.PushKeysReq{Op: 1, Keys: rpc.MakeStringList("k0"), Body: body}
		runPush(b, sinks, func() error { return cm.PushKeys(context.Background(), req) })
	})
	b.Run("room-1000", func(b *testing.B) {
		cm, sinks := sinkComet(b, 1000)
		req := &cometrpc.BroadcastRoomReq{RoomID: "live://1", Batch: protocol.AppendPush(nil, 1, body)}
		runPush(b, sinks, func() error { return cm.BroadcastRoom(context.Background(), req) })
	})
	b.Run("all-1000", func(b *testing.B) {
		cm, sinks := sinkComet(b, 1000)
		req := &cometrpc.BroadcastReq{Op: 1, Body: body}
		runPush(b, sinks, func() error { return cm.Broadcast(context.Background(), req) })
	})
}

// sinkComet returns a comet with n sink connections in room live://1,
// accepting op 1.
func sinkComet(b *testing.B, n int) (*Comet, []*sinkConn) {
	cm, err := New(Config{ReportInterval: -1, SendQueue: 1024}, &fakeLogic{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cm.Close() })
	sinks := make([]*sinkConn, n)
	for i := range n {
		_, sinks[i] = addSinkConn(cm, fmt.Sprint("k", i), "live://1", 1)
	}
	return cm, sinks
}

// runPush runs push b.N times and waits until every sink saw every
// message.
func runPush(b *testing.B, sinks []*sinkConn, push func() error) {
	b.ReportAllocs()
	var sent int64
	for b.Loop() {
		if err := push(); err != nil {
			b.Fatal(err)
		}
		if sent++; sent%256 == 0 {
			waitWrites(sinks, sent)
		}
	}
	waitWrites(sinks, sent)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(sent)/float64(len(sinks)), "ns/delivery")
}

// waitWrites waits until each sink has written the bytes of n messages.
func waitWrites(sinks []*sinkConn, n int64) {
	for _, s := range sinks {
		for s.written.Load() < n*(protocol.HeaderLen+64) {
			runtime.Gosched()
		}
	}
}

// BenchmarkEncodeOnce is the pair behind "encode once, write many": a
// message fanned out to 1000 connections as one shared encoding (ours)
// versus the baseline that encodes a packet per connection.
func BenchmarkEncodeOnce(b *testing.B) {
	body := make([]byte, 256)
	conns := make([][]byte, 1000) // what each connection would be handed
	b.Run("shared", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			msg := encodePush(1, body, 0)
			for i := range conns {
				conns[i] = msg[tcpOffset(msg):]
			}
		}
	})
	b.Run("per-conn", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i := range conns {
				conns[i] = protocol.AppendPush(nil, 1, body)
			}
		}
	})
}

// BenchmarkHeartbeat measures handling one heartbeat: deadline, online
// count and reply, written by a writer goroutine to a socket-less
// connection.
func BenchmarkHeartbeat(b *testing.B) {
	cm, err := New(withoutLimits(Config{ReportInterval: -1}), &fakeLogic{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cm.Close()
	c, _ := addSinkConn(cm, "k", "live://1")
	c.setHeartbeat(time.Hour)
	c.renewAt = math.MaxInt64
	c.th = c.timer().Add(time.Hour, c.deadline)
	p := protocol.Packet{Ver: 1, Op: protocol.OpHeartbeat, Seq: 1}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.handle(&p); err != nil {
			b.Fatal(err)
		}
		waitWriter(c)
	}
}

// BenchmarkWSRead measures reading one heartbeat from a real WebSocket
// client over loopback, the server's read path end to end.
func BenchmarkWSRead(b *testing.B) {
	s := startServer(b, withoutLimits(Config{}), &fakeLogic{})
	c := dialWS(b, s.ws)
	c.auth(token{Key: "k"})
	frame := websocket.AppendMaskedFrame(nil, websocket.OpBinary, [4]byte{1, 2, 3, 4},
		(&protocol.Packet{Ver: 1, Op: protocol.OpHeartbeat, Seq: 1}).Append(nil))
	reply := make([]byte, 2+20)
	b.ReportAllocs()
	for b.Loop() {
		c.nc.Write(frame)
		if _, err := io.ReadFull(c.r, reply); err != nil {
			b.Fatal(err)
		}
	}
	_ = net.ErrClosed
}

// BenchmarkPushStamped is the cost of the end-to-end latency on the
// per-connection push path: the same push, enqueue, write and writer
// exit, with a message that carries no stamp (no observation) and with
// one that does (a clock read and a histogram observation per write).
func BenchmarkPushStamped(b *testing.B) {
	for _, tc := range []struct {
		name  string
		stamp int64
	}{{"unstamped", 0}, {"stamped", time.Now().UnixNano()}} {
		b.Run(tc.name, func(b *testing.B) {
			cm, err := New(Config{ReportInterval: -1, Buckets: 4}, &fakeLogic{}, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer cm.Close()
			c, _ := addSinkConn(cm, "k", "", 1)
			msg := encodePush(1, []byte("hello"), tc.stamp)
			b.ReportAllocs()
			for b.Loop() {
				if c.push(msg, 1, true, false) != pushQueued {
					b.Fatal("not queued")
				}
				waitWriter(c)
			}
		})
	}
}
