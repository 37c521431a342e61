package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/protocol"
)

// fakeComet accepts client connections, answers their auth packet (or
// closes them when refuse is set) and keeps them for the test to write to.
type fakeComet struct {
	ln         net.Listener
	refuse     bool
	countBeats bool         // read each connection after auth, counting heartbeats
	beats      atomic.Int64 // heartbeats read

	mu    sync.Mutex // guards conns
	conns []net.Conn
	wg    sync.WaitGroup
}

// startFakeComet starts a fakeComet stopped at the end of the test.
func startFakeComet(t testing.TB, refuse bool) *fakeComet {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fc := &fakeComet{ln: ln, refuse: refuse}
	fc.wg.Add(1)
	go fc.accept()
	t.Cleanup(fc.close)
	return fc
}

func (fc *fakeComet) accept() {
	defer fc.wg.Done()
	for {
		nc, err := fc.ln.Accept()
		if err != nil {
			return
		}
		if err := fc.auth(nc); err != nil {
			nc.Close()
			continue
		}
		fc.mu.Lock()
		fc.conns = append(fc.conns, nc)
		fc.mu.Unlock()
		if fc.countBeats {
			fc.wg.Add(1)
			go fc.readBeats(nc)
		}
	}
}

// readBeats counts the heartbeat packets nc sends.
func (fc *fakeComet) readBeats(nc net.Conn) {
	defer fc.wg.Done()
	var hdr [protocol.HeaderLen]byte
	for {
		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			return
		}
		if int32(binary.BigEndian.Uint32(hdr[8:])) == protocol.OpHeartbeat {
			fc.beats.Add(1)
		}
	}
}

// auth reads the auth packet and answers it.
func (fc *fakeComet) auth(nc net.Conn) error {
	var hdr [protocol.HeaderLen]byte
	if _, err := io.ReadFull(nc, hdr[:]); err != nil {
		return err
	}
	body := make([]byte, int(binary.BigEndian.Uint32(hdr[:]))-protocol.HeaderLen)
	if _, err := io.ReadFull(nc, body); err != nil {
		return err
	}
	if fc.refuse {
		return errors.New("refused")
	}
	seq := int32(binary.BigEndian.Uint32(hdr[12:]))
	_, err := nc.Write(packet(protocol.OpAuthReply, seq, nil))
	return err
}

// writeAll writes b to every connection.
func (fc *fakeComet) writeAll(t testing.TB, b []byte) {
	t.Helper()
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for _, nc := range fc.conns {
		if _, err := nc.Write(b); err != nil {
			t.Fatal(err)
		}
	}
}

func (fc *fakeComet) close() {
	fc.ln.Close()
	fc.mu.Lock()
	for _, nc := range fc.conns {
		nc.Close()
	}
	fc.mu.Unlock()
	fc.wg.Wait()
}

// packet encodes one packet.
func packet(op, seq int32, body []byte) []byte {
	return (&protocol.Packet{Ver: 1, Op: op, Seq: seq, Body: body}).Append(nil)
}

// readers are the Fleet readers the tests run with.
var readers = []string{ReaderConn, ReaderEpoll}

func TestFleetRounds(t *testing.T) {
	for _, reader := range readers {
		t.Run(reader, func(t *testing.T) { testFleetRounds(t, reader) })
	}
}

func testFleetRounds(t *testing.T, reader string) {
	fc := startFakeComet(t, false)
	const n = 5
	f := NewFleet(FleetConfig{Addr: fc.ln.Addr().String(), N: n, Op: 1000, Dialers: 2, LocalIPs: LoopbackIPs(2), Reader: reader})
	defer f.Close()
	if err := f.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "server side", func() bool { fc.mu.Lock(); defer fc.mu.Unlock(); return len(fc.conns) == n })
	r := f.BeginRound()
	stamped := func(round uint32) []byte {
		return AppendStamp(nil, Stamp{Sent: time.Now().UnixNano(), Round: round}, 20)
	}
	var b []byte
	b = append(b, packet(1000, 0, stamped(r.ID))...)
	b = append(b, packet(1000, 0, stamped(r.ID+5))...)                         // another round: stale
	b = append(b, packet(1000, 0, []byte("short"))...)                         // no stamp: bad
	b = append(b, packet(protocol.OpHeartbeatReply, 3, []byte{0, 0, 0, 1})...) // other op: ignored
	batch := append(packet(1000, 0, stamped(r.ID)), packet(1000, 0, stamped(r.ID))...)
	b = append(b, packet(protocol.OpRaw, 0, batch)...) // op-9 batch of two
	fc.writeAll(t, b)
	got, _ := r.WaitReceived(context.Background(), 3*n, 5*time.Second)
	testwait.For(t, 10*time.Second, "stale and bad counts", func() bool { return f.Stale() == n && f.Bad() == n })
	if got != 3*n || r.Hist.Count() != 3*n {
		t.Fatalf("received %d, hist %d, want %d", got, r.Hist.Count(), 3*n)
	}
	for i := range n {
		if f.Received(i) != 3 || (f.Conn(i) == nil) != (reader == ReaderEpoll) {
			t.Errorf("connection %d received %d", i, f.Received(i))
		}
	}
	if f.Lost() != 0 || f.Connected() != n || f.Len() != n {
		t.Errorf("lost %d connected %d len %d", f.Lost(), f.Connected(), f.Len())
	}
	fc.close() // the server hangs up: connections are lost
	testwait.For(t, 10*time.Second, "lost connections", func() bool { return f.Lost() == n })
}

func TestFleetConnectRefused(t *testing.T) {
	for _, reader := range readers {
		fc := startFakeComet(t, true)
		f := NewFleet(FleetConfig{Addr: fc.ln.Addr().String(), N: 3, Op: 1000, Reader: reader})
		err := f.Connect(context.Background())
		f.Close()
		if !errors.Is(err, client.ErrAuth) || f.Connected() != 0 {
			t.Errorf("%s: Connect: %v, %d connected", reader, err, f.Connected())
		}
	}
	f := NewFleet(FleetConfig{Addr: "127.0.0.1:1", N: 1, Reader: ReaderEpoll})
	defer f.Close()
	if err := f.Connect(context.Background()); err == nil {
		t.Error("connected to a closed port")
	}
}

// TestFleetHeartbeats checks that both readers send heartbeats.
func TestFleetHeartbeats(t *testing.T) {
	for _, reader := range readers {
		fc := startFakeComet(t, false)
		fc.countBeats = true
		f := NewFleet(FleetConfig{Addr: fc.ln.Addr().String(), N: 3, Op: 1000, Reader: reader, Heartbeat: 16 * time.Millisecond})
		if err := f.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, 10*time.Second, reader+" heartbeats", func() bool { return fc.beats.Load() >= 6 })
		f.Close()
	}
}

func TestLoopbackIPs(t *testing.T) {
	ips := LoopbackIPs(300)
	if len(ips) != 254 || ips[0] != "127.0.0.1" || ips[253] != "127.0.0.254" {
		t.Errorf("LoopbackIPs(300) = %d addresses, %s .. %s", len(ips), ips[0], ips[len(ips)-1])
	}
	if len(LoopbackIPs(0)) != 0 {
		t.Error("LoopbackIPs(0) not empty")
	}
	ranges := []struct {
		first, n  int
		want      int
		low, high string
	}{
		{5, 4, 4, "127.0.0.5", "127.0.0.8"},
		{250, 10, 5, "127.0.0.250", "127.0.0.254"},
		{0, 2, 2, "127.0.0.1", "127.0.0.2"},
	}
	for _, r := range ranges {
		ips := LoopbackIPRange(r.first, r.n)
		if len(ips) != r.want || ips[0] != r.low || ips[len(ips)-1] != r.high {
			t.Errorf("LoopbackIPRange(%d, %d) = %q", r.first, r.n, ips)
		}
	}
}

// BenchmarkFleetReceive compares the readers: each op writes one stamped
// message to each of 1,000 connections (one write each, as a comet with
// batching off does) and waits until all arrived; ns/op over 1,000 is the
// cost of one delivery, writer included.
func BenchmarkFleetReceive(b *testing.B) {
	for _, reader := range readers {
		b.Run("reader="+reader, func(b *testing.B) {
			fc := startFakeComet(b, false)
			const n = 1000
			f := NewFleet(FleetConfig{Addr: fc.ln.Addr().String(), N: n, Op: 1000, Reader: reader})
			defer f.Close()
			if err := f.Connect(context.Background()); err != nil {
				b.Fatal(err)
			}
			testwait.For(b, 10*time.Second, "server side", func() bool { fc.mu.Lock(); defer fc.mu.Unlock(); return len(fc.conns) == n })
			r := f.BeginRound()
			msg := packet(1000, 0, AppendStamp(nil, Stamp{Round: r.ID}, 16))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				PutStamp(msg[protocol.HeaderLen:], Stamp{Sent: time.Now().UnixNano(), Round: r.ID, Seq: uint32(i)})
				fc.writeAll(b, msg)
			}
			r.WaitReceived(context.Background(), uint64(b.N*n), 10*time.Second)
			b.StopTimer()
			if got := r.Received(); got != uint64(b.N*n) {
				b.Fatalf("received %d of %d", got, b.N*n)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
		})
	}
}

// TestFleetSeveralComets: with comma-separated addresses, connection i
// dials the (i mod n)-th comet, with either reader.
func TestFleetSeveralComets(t *testing.T) {
	for _, reader := range readers {
		t.Run(reader, func(t *testing.T) {
			a, b := startFakeComet(t, false), startFakeComet(t, false)
			f := NewFleet(FleetConfig{Addr: a.ln.Addr().String() + "," + b.ln.Addr().String(), N: 5, Op: 1000, Reader: reader})
			defer f.Close()
			if err := f.Connect(context.Background()); err != nil {
				t.Fatal(err)
			}
			held := func(fc *fakeComet) int { fc.mu.Lock(); defer fc.mu.Unlock(); return len(fc.conns) }
			testwait.For(t, 10*time.Second, "server side", func() bool { return held(a) == 3 && held(b) == 2 })
		})
	}
}
