package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/internal/testcert"
)

const loop = "127.0.0.1:0"

// push pushes body to key through the HTTP API at addr and fails the
// test unless the answer is code 0.
func push(t *testing.T, addr, key, body string) {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post("http://"+addr+"/goim/push/keys?operation=1000&keys="+key, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"code":0`) {
		t.Fatalf("push to %s: %s", key, b)
	}
}

// dial connects a client with key over transport, failing the test on
// error; it is closed when the test ends.
func dial(t *testing.T, transport string, addr net.Addr, tlsCfg *tls.Config, key string) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{Transport: transport, Addr: addr.String(), TLSConfig: tlsCfg,
		Token: client.Token{Key: key, Accepts: []int32{1000}}})
	if err != nil {
		t.Fatalf("dial %s %s: %v", transport, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// expect reads one message from c and checks its body.
func expect(t *testing.T, c *client.Conn, body string) {
	t.Helper()
	timer := time.AfterFunc(10*time.Second, func() { c.Close() })
	defer timer.Stop()
	m, err := c.Read()
	if err != nil || m.Op != 1000 || string(m.Body) != body {
		t.Errorf("read %d %q, %v; want 1000 %q", m.Op, m.Body, err, body)
	}
}

// waitReady waits for n's tiers to know each other.
func waitReady(t *testing.T, n *Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestStartTLS runs a whole node with every client listener, over both
// links: clients of the TLS listeners get pushes, the tiers' Err
// channels close after Shutdown.
func TestStartTLS(t *testing.T) {
	cert := testcert.New(t)
	for _, links := range []Links{"", LinksDirect} {
		t.Run(string(effectiveLinks(links)), func(t *testing.T) {
			n, err := Start(Config{
				Logic: LogicConfig{HTTPAddr: loop, RPCAddr: loop},
				Comet: CometConfig{TCPAddrs: []string{loop}, WSAddr: loop, WSSAddr: loop, TCPTLSAddr: loop,
					RPCAddr: loop, TLSConfig: cert.Server},
				Job:   JobConfig{RPCAddr: loop},
				Links: links,
			}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			if n.Links() != effectiveLinks(links) {
				t.Errorf("Links() = %q", n.Links())
			}
			a := n.Comet().Addrs()
			if len(a.TCP) != 1 || a.WS == nil || a.WSS == nil || a.TCPTLS == nil || a.RPC == nil {
				t.Fatalf("addrs %+v", a)
			}
			waitReady(t, n)
			clientTLS := cert.Client()
			clientTLS.ServerName = "127.0.0.1"
			wss := dial(t, client.TransportWSS, a.WSS, clientTLS, "wss")
			tcpTLS := dial(t, client.TransportTLS, a.TCPTLS, clientTLS, "tls")
			push(t, n.Logic().HTTPAddr().String(), "wss", "to wss")
			push(t, n.Logic().HTTPAddr().String(), "tls", "to tls")
			expect(t, wss, "to wss")
			expect(t, tcpTLS, "to tls")

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := n.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			for name, errc := range map[string]<-chan error{"logic": n.Logic().Err(), "comet": n.Comet().Err(), "job": n.Job().Err()} {
				if err, ok := <-errc; ok {
					t.Errorf("%s: serve failure %v after Shutdown", name, err)
				}
			}
		})
	}
}

// effectiveLinks returns the Links a node runs with for l.
func effectiveLinks(l Links) Links {
	if l == "" {
		return LinksRPC
	}
	return l
}

// TestStartSeparateTiers starts each tier alone, as the separate
// binaries do: the comet and the job dial logic over the RPC.
func TestStartSeparateTiers(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	l, err := StartLogic(LogicConfig{HTTPAddr: loop, RPCAddr: loop}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	logicAddr := l.RPCAddr().String()
	c, err := StartComet(CometConfig{TCPAddrs: []string{loop}, WSAddr: NoListen, RPCAddr: loop, LogicAddr: logicAddr}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	j, err := StartJob(JobConfig{RPCAddr: loop, LogicAddr: logicAddr}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if want := c.Addrs().RPC.String(); c.Comet().Config().RPCAdvertise != want {
		t.Errorf("comet advertises %q, want %q", c.Comet().Config().RPCAdvertise, want)
	}
	waitReady(t, &Node{logic: l, comet: c, job: j})
	conn := dial(t, client.TransportTCP, c.Addrs().TCP[0], nil, "k")
	push(t, l.HTTPAddr().String(), "k", "alone")
	expect(t, conn, "alone")
}

// TestStartFails: a tier that cannot start fails Start, and the tiers
// already started are closed (the leak gate sees their goroutines end).
func TestStartFails(t *testing.T) {
	busy, err := net.Listen("tcp", loop)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	logger := slog.New(slog.DiscardHandler)
	base := Config{
		Logic: LogicConfig{HTTPAddr: loop, RPCAddr: loop},
		Comet: CometConfig{TCPAddrs: []string{loop}, WSAddr: NoListen, RPCAddr: loop},
		Job:   JobConfig{RPCAddr: loop},
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"links", func(c *Config) { c.Links = "inproc" }, `links "inproc"`},
		{"logic", func(c *Config) { c.Logic.HTTPAddr = busy.Addr().String() }, "logic http: listen"},
		{"comet", func(c *Config) { c.Comet.WSAddr = busy.Addr().String() }, "comet ws: listen"},
		{"comet tls", func(c *Config) { c.Comet.TCPTLSAddr = loop }, "TLS listener without a certificate"},
		{"comet config", func(c *Config) { c.Comet.Comet.Buckets = -1 }, "Buckets -1 is negative"},
		{"job", func(c *Config) { c.Job.RPCAddr = busy.Addr().String() }, "job rpc: listen"},
		{"job config", func(c *Config) { c.Job.Job.BatchBytes = -1 }, "BatchBytes -1 is negative"},
	}
	for _, tt := range tests {
		cfg := base
		tt.edit(&cfg)
		n, err := Start(cfg, logger)
		if err == nil {
			n.Close()
			t.Errorf("%s: Start succeeded", tt.name)
		} else if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Start = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestErrReportsServeFailure: a serve loop that stops on its own shows
// on the tier's Err channel.
func TestErrReportsServeFailure(t *testing.T) {
	l, err := StartLogic(LogicConfig{HTTPAddr: loop, RPCAddr: loop}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.httpLn.Close() // the HTTP serve loop fails: not a stop asked for
	select {
	case err := <-l.Err():
		if err == nil || !strings.HasPrefix(err.Error(), "logic http: ") || errors.Is(err, errStopped) {
			t.Errorf("Err got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no failure on Err")
	}
}
