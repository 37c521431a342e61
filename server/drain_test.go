package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

// drainComet is a comet of the drain test, started on listeners of its
// own so that its advertised client address is its real one.
type drainComet struct {
	cm    *comet.Comet
	addr  string // TCP client address, advertised as Config.Addrs
	logic *logicrpc.Client
	wg    sync.WaitGroup
}

func startDrainComet(t *testing.T, id, logicAddr string, logger *slog.Logger) *drainComet {
	t.Helper()
	tcp, err := net.Listen("tcp", loop)
	if err != nil {
		t.Fatal(err)
	}
	rpcLn, err := net.Listen("tcp", loop)
	if err != nil {
		t.Fatal(err)
	}
	dc := &drainComet{addr: tcp.Addr().String(), logic: logicrpc.NewClient(logicAddr, rpc.ClientConfig{}, logger)}
	dc.cm, err = comet.New(comet.Config{
		NodeID: id, Addrs: []string{dc.addr}, RPCAdvertise: rpcLn.Addr().String(),
		ReportInterval: 200 * time.Millisecond,
		MaxConnsPerIP:  -1, AuthRatePerIP: -1, MsgRate: -1, // thousands of clients from 127.0.0.1
	}, dc.logic, logger)
	if err != nil {
		t.Fatal(err)
	}
	dc.wg.Add(2)
	go func() { defer dc.wg.Done(); _ = dc.cm.ServeTCP(tcp) }()
	go func() { defer dc.wg.Done(); _ = dc.cm.ServeRPC(rpcLn) }()
	t.Cleanup(func() {
		dc.cm.Close()
		dc.wg.Wait()
		dc.logic.Close()
	})
	return dc
}

// weightedNodes returns the client addresses /goim/nodes/weighted lists.
func weightedNodes(httpAddr string) ([]string, error) {
	resp, err := http.Get("http://" + httpAddr + "/goim/nodes/weighted?platform=android")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var ans struct {
		Data struct {
			Nodes []string `json:"nodes"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return nil, err
	}
	return ans.Data.Nodes, nil
}

// drainClient is one client of the drain test: it reads until closed,
// then asks /goim/nodes/weighted where to go and reconnects there with
// the same key, as a mobile client does.
type drainClient struct {
	key     string
	mu      sync.Mutex
	c       *client.Conn
	on      string       // comet address of c
	got     []string     // bodies received, in order
	redial  atomic.Int32 // successful reconnects
	retries atomic.Int32 // failed reconnect attempts
}

// run reads and reconnects until ctx ends.
func (dc *drainClient) run(ctx context.Context, httpAddr string) error {
	for ctx.Err() == nil {
		dc.mu.Lock()
		c := dc.c
		dc.mu.Unlock()
		for {
			m, err := c.Read()
			if err != nil {
				break
			}
			dc.mu.Lock()
			dc.got = append(dc.got, string(m.Body))
			dc.mu.Unlock()
		}
		if ctx.Err() != nil {
			return nil
		}
		if err := dc.reconnect(ctx, httpAddr); err != nil {
			return err
		}
	}
	return nil
}

// reconnect dials the first node /goim/nodes/weighted lists, retrying
// with a backoff as a client does (a comet or logic swamped by the
// reconnects of a whole comet refuses some; the race detector slows
// everything down).
func (dc *drainClient) reconnect(ctx context.Context, httpAddr string) error {
	var err error
	for try := range 10 {
		if try > 0 {
			dc.retries.Add(1)
			time.Sleep(time.Duration(try) * 200 * time.Millisecond)
		}
		var nodes []string
		nodes, err = weightedNodes(httpAddr)
		if err != nil || len(nodes) == 0 {
			err = fmt.Errorf("nodes/weighted: %v %v", nodes, err)
			continue
		}
		var c *client.Conn
		c, err = client.Dial(ctx, client.Config{Addr: nodes[0], Token: client.Token{Key: dc.key, Accepts: []int32{1000}}})
		if err != nil {
			err = fmt.Errorf("redial %s: %w", nodes[0], err)
			continue
		}
		dc.connected(c, nodes[0])
		return nil
	}
	return err
}

// connected records the new connection c to addr.
func (dc *drainClient) connected(c *client.Conn, addr string) {
	dc.redial.Add(1)
	dc.mu.Lock()
	dc.c, dc.on = c, addr
	dc.mu.Unlock()
}

// TestDrainMovesClients: two comets; the admin endpoint drains the one
// holding every client: /goim/nodes/weighted stops listing it at once,
// its clients are closed over the drain duration and reconnect to the
// other comet through /goim/nodes/weighted, and a push to each of them
// afterwards reaches every one.
func TestDrainMovesClients(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	logger := slog.New(slog.DiscardHandler)
	l, err := StartLogic(LogicConfig{HTTPAddr: loop, RPCAddr: loop}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	logicAddr, httpAddr := l.RPCAddr().String(), l.HTTPAddr().String()
	j, err := StartJob(JobConfig{RPCAddr: loop, LogicAddr: logicAddr}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	a := startDrainComet(t, "comet-a", logicAddr, logger)
	b := startDrainComet(t, "comet-b", logicAddr, logger)
	testwait.For(t, 10*time.Second, "both comets listed", func() bool {
		nodes, _ := weightedNodes(httpAddr)
		return len(nodes) == 2
	})

	ctx, cancel := context.WithCancel(context.Background())
	clients := make([]*drainClient, n)
	errc := make(chan error, n)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		for _, dc := range clients {
			if dc != nil {
				dc.mu.Lock()
				dc.c.Close()
				dc.mu.Unlock()
			}
		}
		wg.Wait()
	}()
	for i := range clients {
		dc := &drainClient{key: fmt.Sprint("drain-", i), on: a.addr}
		c, err := client.Dial(ctx, client.Config{Addr: a.addr, Token: client.Token{Key: dc.key, Accepts: []int32{1000}}})
		if err != nil {
			t.Fatal(err)
		}
		dc.c = c
		clients[i] = dc
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := dc.run(ctx, httpAddr); err != nil {
				errc <- err
			}
		}()
	}
	testwait.For(t, 30*time.Second, "clients on comet a", func() bool { return a.cm.Stats().Conns == n })

	start := time.Now()
	resp, err := http.Post("http://"+httpAddr+"/goim/admin/comets/comet-a/drain?duration=2s", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprintf(`"conns":%d,"duration_seconds":2`, n); !strings.Contains(string(body), want) {
		t.Fatalf("drain answer %s, want %s", body, want)
	}
	if nodes, err := weightedNodes(httpAddr); err != nil || len(nodes) != 1 || nodes[0] != b.addr {
		t.Fatalf("nodes/weighted right after the drain answer: %v %v, want only %s", nodes, err, b.addr)
	}
	testwait.For(t, 60*time.Second, "every client on comet b", func() bool {
		select {
		case err := <-errc:
			t.Fatal(err)
		default:
		}
		for _, dc := range clients {
			dc.mu.Lock()
			on := dc.on
			dc.mu.Unlock()
			if on != b.addr {
				return false
			}
		}
		return b.cm.Stats().Conns == n && a.cm.Stats().Conns == 0
	})
	took := time.Since(start)
	if st := a.cm.Stats(); st.Drained != uint64(n) || !st.Draining {
		t.Errorf("comet a Drained %d draining %v, want %d true", st.Drained, st.Draining, n)
	}
	for _, dc := range clients {
		if dc.redial.Load() != 1 {
			t.Fatalf("client %s redialed %d times", dc.key, dc.redial.Load())
		}
	}
	var retries int32
	for _, dc := range clients {
		retries += dc.retries.Load()
	}
	t.Logf("%d clients moved in %v, %d reconnects retried", n, took, retries)

	// A push to every key after the move reaches every client.
	for i := 0; i < n; i += 100 {
		var keys []string
		for _, dc := range clients[i:min(i+100, n)] {
			keys = append(keys, "keys="+dc.key)
		}
		push := "http://" + httpAddr + "/goim/push/keys?operation=1000&" + strings.Join(keys, "&")
		resp, err := http.Post(push, "text/plain", strings.NewReader("after"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `"code":0`) {
			t.Fatalf("push: %s", body)
		}
	}
	testwait.For(t, 30*time.Second, "the push at every client", func() bool {
		for _, dc := range clients {
			dc.mu.Lock()
			ok := len(dc.got) == 1 && dc.got[0] == "after"
			dc.mu.Unlock()
			if !ok {
				return false
			}
		}
		return true
	})
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
