package logic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
	"github.com/google/go-cmp/cmp"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serveJob serves a fake job over a real rpc.Server and returns its
// address; the server stops at cleanup or when stop is called.
func serveJob(t *testing.T, j *fakeJob) (addr string, stop func()) {
	t.Helper()
	s := rpc.NewServer(rpc.ServerConfig{}, discardLogger())
	jobrpc.Register(s, j)
	ln := listen(t)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			s.Close()
			if err := <-done; !errors.Is(err, rpc.ErrServerClosed) {
				t.Errorf("job Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

// rpcEnv is a Logic serving HTTP and RPC on loopback.
type rpcEnv struct {
	l        *Logic
	client   *logicrpc.Client
	httpBase string
	received chan logicrpc.ReceiveReq
}

func newRPCEnv(t *testing.T) *rpcEnv {
	t.Helper()
	e := &rpcEnv{received: make(chan logicrpc.ReceiveReq, 10)}
	cfg := Config{
		ReceiveHook: func(_ context.Context, r *logicrpc.ReceiveReq) {
			c := *r
			c.Body = append([]byte(nil), r.Body...)
			e.received <- c
		},
	}
	l, err := New(cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	e.l = l
	apiLn, rpcLn := listen(t), listen(t)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); checkClosed(t, "ServeAPI", l.ServeAPI(apiLn)) }()
	go func() { defer wg.Done(); checkClosed(t, "ServeRPC", l.ServeRPC(rpcLn)) }()
	e.client = logicrpc.NewClient(rpcLn.Addr().String(), rpc.ClientConfig{}, discardLogger())
	e.httpBase = "http://" + apiLn.Addr().String()
	t.Cleanup(func() {
		e.client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		wg.Wait()
		http.DefaultClient.CloseIdleConnections()
	})
	return e
}

func checkClosed(t *testing.T, what string, err error) {
	if !errors.Is(err, ErrServerClosed) {
		t.Errorf("%s returned %v, want ErrServerClosed", what, err)
	}
}

// post sends an HTTP push and decodes the answer.
func (e *rpcEnv) post(t *testing.T, path, body string) Response {
	t.Helper()
	res, err := http.Post(e.httpBase+path, "application/octet-stream", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r Response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("answer %q: %v", raw, err)
	}
	return r
}

// TestRPCPushThroughJob registers a job served over a real rpc.Server
// through the logic RPC Report, connects clients through the RPC, and
// checks what an HTTP push hands to the job.
func TestRPCPushThroughJob(t *testing.T) {
	e := newRPCEnv(t)
	ctx := context.Background()
	job := &fakeJob{id: "j1"}
	jobAddr, stopJob := serveJob(t, job)
	rep, err := e.client.Report(ctx, &logicrpc.ReportReq{Node: logicrpc.NodeInfo{ID: "j1", Kind: logicrpc.KindJob, RPCAddr: jobAddr}})
	must(t, err)
	if rep.Known || rep.Epoch != e.l.Epoch() {
		t.Fatalf("job report reply %+v", rep)
	}
	rep, err = e.client.Report(ctx, &logicrpc.ReportReq{Node: cometInfo("c1"), RoomCount: map[string]int32{"live://1": 2}})
	must(t, err)
	if diff := cmp.Diff(map[string]int32{"live://1": 2}, rep.RoomCount); diff != "" {
		t.Errorf("comet report counts (-want +got):\n%s", diff)
	}
	conn, err := e.client.Connect(ctx, &logicrpc.ConnectReq{Server: "c1", ConnID: 1, Token: []byte(`{"mid":9,"room_id":"live://1","accepts":[1000]}`)})
	must(t, err)
	if conn.Key == "" || conn.Mid != 9 || conn.Heartbeat != 90*time.Second || conn.RoomID != "live://1" {
		t.Fatalf("connect reply %+v", conn)
	}
	before := time.Now().UnixNano()
	got := e.post(t, "/goim/push/mids?operation=1000&mids=9", "hello")
	after := time.Now().UnixNano()
	if diff := cmp.Diff(Response{Code: 0, Data: map[string]any{"conns": 1.0, "comets": 1.0}}, got); diff != "" {
		t.Errorf("push answer (-want +got):\n%s", diff)
	}
	want := []jobrpc.PushMsg{{Type: jobrpc.PushKeys, Op: 1000, Server: "c1", Keys: rpc.MakeStringList(conn.Key), Msg: []byte("hello")}}
	received := job.received()
	for i, m := range received {
		if m.Stamp < before || m.Stamp > after {
			t.Errorf("push stamped %d, not within the request [%d, %d]", m.Stamp, before, after)
		}
		received[i].Stamp = 0
	}
	if diff := cmp.Diff(want, received); diff != "" {
		t.Errorf("job received (-want +got):\n%s", diff)
	}
	// The job goes down: the caller gets -500 with the reason.
	stopJob()
	got = e.post(t, "/goim/push/room?operation=1&type=live&room=1", "x")
	if got.Code != CodeServerErr || !strings.Contains(got.Message, "job j1") {
		t.Errorf("push with the job down: %+v", got)
	}
}

func TestRPCSessions(t *testing.T) {
	e := newRPCEnv(t)
	ctx := context.Background()
	_, err := e.client.Connect(ctx, &logicrpc.ConnectReq{Server: "c1", ConnID: 1, Token: []byte(`{"mid":`)})
	var re *rpc.RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Message, "bad token") {
		t.Fatalf("bad token: err = %v", err)
	}
	token := []byte(`{"mid":5,"key":"k"}`)
	_, err = e.client.Connect(ctx, &logicrpc.ConnectReq{Server: "c1", ConnID: 1, Token: token})
	must(t, err)
	// Reconnect with the same key, then the old connection's late Disconnect.
	_, err = e.client.Connect(ctx, &logicrpc.ConnectReq{Server: "c2", ConnID: 7, Token: token})
	must(t, err)
	dis, err := e.client.Disconnect(ctx, &logicrpc.DisconnectReq{Mid: 5, Key: "k", Server: "c1", ConnID: 1})
	must(t, err)
	if dis.Has {
		t.Error("late Disconnect removed the newer session")
	}
	must(t, e.client.Heartbeat(ctx, &logicrpc.HeartbeatReq{Mid: 5, Key: "k", Server: "c2", ConnID: 7}))
	must(t, e.client.Sessions(ctx, &logicrpc.SessionsReq{Server: "c3", Sessions: []logicrpc.Session{{Mid: 6, Key: "k6", ConnID: 1}}}))
	rs, _ := e.l.sessions.AppendByMids(ctx, nil, []int64{5, 6})
	if diff := cmp.Diff([]Route{{"k", "c2"}, {"k6", "c3"}}, rs); diff != "" {
		t.Errorf("sessions (-want +got):\n%s", diff)
	}
	must(t, e.client.Receive(ctx, &logicrpc.ReceiveReq{Mid: 5, Key: "k", Op: 4, Body: []byte("up")}))
	select {
	case r := <-e.received:
		if diff := cmp.Diff(logicrpc.ReceiveReq{Mid: 5, Key: "k", Op: 4, Body: []byte("up")}, r); diff != "" {
			t.Errorf("received (-want +got):\n%s", diff)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Receive hook not called")
	}
	nodes, err := e.client.Nodes(ctx, &logicrpc.NodesReq{Kind: logicrpc.KindComet})
	must(t, err)
	if len(nodes.Nodes) != 0 {
		t.Errorf("nodes %v", nodes.Nodes)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	l, err := New(Config{}, discardLogger())
	must(t, err)
	ln := listen(t)
	done := make(chan error, 1)
	go func() { done <- l.ServeRPC(ln) }()
	must(t, l.Close())
	checkClosed(t, "ServeRPC", <-done)
	must(t, l.Close()) // idempotent
	if _, err := l.PushAll(context.Background(), 1, 0, nil); !errors.Is(err, ErrNoJob) {
		t.Errorf("push after close: %v", err)
	}
}
