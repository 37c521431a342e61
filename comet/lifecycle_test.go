package comet

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	xws "golang.org/x/net/websocket"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/internal/leaktest"
	"github.com/goimx/goim/internal/testcert"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/rpc"
	"github.com/goimx/goim/websocket"
)

func TestXNetWebsocketClient(t *testing.T) {
	s := startServer(t, Config{}, nil)
	cfg, err := xws.NewConfig("ws://"+s.ws+"/sub", "http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := xws.DialConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetDeadline(time.Now().Add(waitTimeout))
	send := func(op, seq int32, body []byte) {
		t.Helper()
		if err := xws.Message.Send(ws, (&protocol.Packet{Ver: 1, Op: op, Seq: seq, Body: body}).Append(nil)); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() protocol.Packet {
		t.Helper()
		var msg []byte
		if err := xws.Message.Receive(ws, &msg); err != nil {
			t.Fatal(err)
		}
		var p protocol.Packet
		if err := p.Decode(msg, 1<<20); err != nil {
			t.Fatal(err)
		}
		return p
	}
	send(protocol.OpAuth, 1, tokenJSON(token{Mid: 3, Key: "xnet", RoomID: "live://9", Accepts: []int32{1000}}))
	if p := recv(); p.Op != protocol.OpAuthReply || p.Seq != 1 {
		t.Fatalf("auth reply %+v", p)
	}
	send(protocol.OpHeartbeat, 2, nil)
	if p := recv(); p.Op != protocol.OpHeartbeatReply || p.Seq != 2 || binary.BigEndian.Uint32(p.Body) != 1 {
		t.Fatalf("heartbeat reply %+v", p)
	}
	ctx := context.Background()
	s.cm.PushKeys(ctx, &cometrpc.PushKeysReq{Op: 1000, Keys: rpc.MakeStringList("xnet"), Body: []byte("by key")})
	s.cm.BroadcastRoom(ctx, &cometrpc.BroadcastRoomReq{RoomID: "live://9", Batch: slices.Concat(packetBytes(1, "a"), packetBytes(2, "b"))})
	s.cm.Broadcast(ctx, &cometrpc.BroadcastReq{Op: 1000, Body: []byte("to all")})
	for _, want := range [][]protocol.Packet{
		{{Ver: 1, Op: 1000, Body: []byte("by key")}},
		{{Ver: 1, Op: 1, Body: []byte("a")}, {Ver: 1, Op: 2, Body: []byte("b")}},
		{{Ver: 1, Op: 1000, Body: []byte("to all")}},
	} {
		p := recv()
		if p.Op != protocol.OpRaw || p.Ver != 1 || p.Seq != 0 {
			t.Fatalf("push packet %+v, want op 9", p)
		}
		var got []protocol.Packet
		for inner, err := range protocol.Packets(p.Body, 0) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, inner)
		}
		if len(got) != len(want) {
			t.Fatalf("inner packets %+v, want %+v", got, want)
		}
		for i := range got {
			if got[i].Op != want[i].Op || got[i].Ver != 1 || string(got[i].Body) != string(want[i].Body) {
				t.Errorf("inner packet %+v, want %+v", got[i], want[i])
			}
		}
	}
}

func TestServeTLSAndShutdown(t *testing.T) {
	cert := testcert.New(t)
	srvTLS, roots := cert.Server, cert.Roots
	logic := &fakeLogic{}
	cm, err := New(Config{NodeID: "tls-node", ReportInterval: -1}, logic, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close()
	var addrs struct{ TCPTLS, WSS, RPC net.Addr }
	var serves sync.WaitGroup
	defer serves.Wait()
	for _, l := range []struct {
		addr  *net.Addr
		tls   bool
		serve func(net.Listener) error
	}{
		{&addrs.TCPTLS, true, cm.ServeTCP},
		{&addrs.WSS, true, cm.ServeWS},
		{&addrs.RPC, false, cm.ServeRPC},
	} {
		ln := listenLoopback(t)
		*l.addr = ln.Addr()
		if l.tls {
			ln = tls.NewListener(ln, srvTLS)
		}
		serves.Add(1)
		go func() {
			defer serves.Done()
			_ = l.serve(ln)
		}()
	}
	clientTLS := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}

	tc, err := tls.Dial("tcp", addrs.TCPTLS.String(), clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	tcpc := &client{t: t, nc: tc, r: tc}
	tcpc.auth(token{Key: "tls-tcp", Accepts: []int32{77}})

	wc, err := tls.Dial("tcp", addrs.WSS.String(), clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	wc.SetDeadline(time.Now().Add(waitTimeout))
	leftover, err := websocket.ClientHandshake(wc, nil, addrs.WSS.String(), "/sub", "")
	if err != nil {
		t.Fatal(err)
	}
	wsc := &client{t: t, nc: wc, ws: true, r: io.MultiReader(bytesReader(leftover), wc)}
	wsc.auth(token{Key: "tls-ws", Accepts: []int32{77}})
	testwait.For(t, waitTimeout, "conns", func() bool { return cm.Stats().Conns == 2 })

	// Jobs push through the comet RPC service.
	rc := cometrpc.NewClient(addrs.RPC.String(), rpc.ClientConfig{}, slog.New(slog.DiscardHandler))
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := rc.PushKeys(ctx, &cometrpc.PushKeysReq{Op: 77, Keys: rpc.MakeStringList("tls-tcp", "tls-ws"), Body: []byte("secure")}); err != nil {
		t.Fatal(err)
	}
	expectPushes(t, tcpc, packetBytes(77, "secure"))
	expectPushes(t, wsc, packetBytes(77, "secure"))
	if rooms, err := rc.Rooms(ctx); err != nil || len(rooms) != 0 {
		t.Errorf("Rooms over RPC = %v, %v", rooms, err)
	}

	if err := cm.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	op, _, payload, err := wsc.readFrame()
	if err != nil || op != websocket.OpClose || binary.BigEndian.Uint16(payload) != websocket.CloseGoingAway {
		t.Errorf("shutdown close frame %v % x %v", op, payload, err)
	}
	tcpc.expectClosed()
	if d := logic.disconnected(); len(d) != 2 {
		t.Errorf("%d Disconnects after Shutdown, want 2", len(d))
	}
	if st := cm.Stats(); st.Conns != 0 || st.Closes[CloseShutdown] != 2 {
		t.Errorf("stats after shutdown %+v", st)
	}
	if err := cm.ServeTCP(listenLoopback(t)); err != ErrServerClosed {
		t.Errorf("ServeTCP after Shutdown: %v", err)
	}
}

// bytesReader returns a reader over a copy of b.
func bytesReader(b []byte) io.Reader { return &sliceReader{b: slices.Clone(b)} }

type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	s := startServer(t, Config{}, nil)
	var clients []*client
	for i := range 20 {
		var c *client
		if i%2 == 0 {
			c = dialTCP(t, s.tcp)
		} else {
			c = dialWS(t, s.ws)
		}
		if i < 16 {
			c.auth(token{Key: string(rune('a' + i)), RoomID: "live://1", Accepts: []int32{1}})
		}
		clients = append(clients, c)
	}
	testwait.For(t, waitTimeout, "conns", func() bool { return s.cm.Stats().Conns == 16 })
	s.cm.Broadcast(context.Background(), &cometrpc.BroadcastReq{Op: 1, Speed: 1, Body: []byte("slow")}) // still pacing at Close
	s.cm.Close()
	for _, c := range clients {
		c.expectClosed()
	}
	if err := leaktest.Check(10*time.Second, "github.com/goimx/goim/"); err != nil {
		t.Fatalf("after Close: %v", err)
	}
}

func TestShutdownTimeout(t *testing.T) {
	logic := &slowLogic{fakeLogic: &fakeLogic{}}
	s := startServer(t, Config{}, logic.fakeLogic)
	s.cm.logic = logic
	c := dialTCP(t, s.tcp)
	c.auth(token{Key: "k"})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.cm.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Errorf("Shutdown with a stuck logic: %v, want deadline exceeded", err)
	}
}

// slowLogic is a fakeLogic whose Disconnect blocks until its context ends.
type slowLogic struct {
	*fakeLogic
}

func (l *slowLogic) Disconnect(ctx context.Context, req *logicrpc.DisconnectReq) (*logicrpc.DisconnectReply, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestShutdownDuringReport: a report stuck on a slow logic does not hold
// Shutdown past its context: once the connections are gone the pending
// logic call is cancelled.
func TestShutdownDuringReport(t *testing.T) {
	logic := &stuckReportLogic{fakeLogic: &fakeLogic{}, entered: make(chan struct{}, 1)}
	cm, err := New(Config{ReportInterval: time.Hour, LogicTimeout: time.Hour}, logic, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	<-logic.entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cm.Shutdown(ctx) }()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		cm.Close()
		<-done
		t.Fatal("Shutdown waited for a report stuck on logic")
	}
}

// stuckReportLogic is a fakeLogic whose Report blocks until its context
// ends.
type stuckReportLogic struct {
	*fakeLogic
	entered chan struct{}
}

func (l *stuckReportLogic) Report(ctx context.Context, req *logicrpc.ReportReq) (*logicrpc.ReportReply, error) {
	l.entered <- struct{}{}
	<-ctx.Done()
	return nil, ctx.Err()
}
