package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/protocol"
)

// fakeComet accepts client connections, answers their auth packet (or
// closes them when refuse is set) and keeps them for the test to write to.
type fakeComet struct {
	ln     net.Listener
	refuse bool

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
	fc.wg.Wait()
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for _, nc := range fc.conns {
		nc.Close()
	}
}

// packet encodes one packet.
func packet(op, seq int32, body []byte) []byte {
	return (&protocol.Packet{Ver: 1, Op: op, Seq: seq, Body: body}).Append(nil)
}

func TestFleetRounds(t *testing.T) {
	fc := startFakeComet(t, false)
	const n = 5
	f := NewFleet(FleetConfig{Addr: fc.ln.Addr().String(), N: n, Op: 1000, Dialers: 2, LocalIPs: LoopbackIPs(2)})
	defer f.Close()
	if err := f.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "server side", func() bool { fc.mu.Lock(); defer fc.mu.Unlock(); return len(fc.conns) == n })
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
	waitFor(t, "stale and bad counts", func() bool { return f.Stale() == n && f.Bad() == n })
	if got != 3*n || r.Hist.Count() != 3*n {
		t.Fatalf("received %d, hist %d, want %d", got, r.Hist.Count(), 3*n)
	}
	for i := range n {
		if f.Received(i) != 3 || f.Conn(i) == nil {
			t.Errorf("connection %d received %d", i, f.Received(i))
		}
	}
	if f.Lost() != 0 || f.Connected() != n || f.Len() != n {
		t.Errorf("lost %d connected %d len %d", f.Lost(), f.Connected(), f.Len())
	}
	fc.close() // the server hangs up: connections are lost
	waitFor(t, "lost connections", func() bool { return f.Lost() == n })
}

func TestFleetConnectRefused(t *testing.T) {
	fc := startFakeComet(t, true)
	f := NewFleet(FleetConfig{Addr: fc.ln.Addr().String(), N: 3, Op: 1000})
	defer f.Close()
	err := f.Connect(context.Background())
	if !errors.Is(err, client.ErrAuth) || f.Connected() != 0 {
		t.Fatalf("Connect: %v, %d connected", err, f.Connected())
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
}
