package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goimx/goim/bufio"
	"github.com/goimx/goim/client"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// fakeComet accepts connections on ln: each one is authenticated (its
// token sent on tokens), gets a push whose body is "conn N" (N from 1),
// and is hung up when hangUp is true.
func fakeComet(ln net.Listener, tokens chan<- client.Token, hangUp func(n int) bool) {
	for n := 1; ; n++ {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer nc.Close()
			r := bufio.NewReaderSize(nc, 4112)
			var p protocol.Packet
			if err := p.ReadFrom(r, 0); err != nil {
				return
			}
			var tok client.Token
			json.Unmarshal(p.Body, &tok)
			tokens <- tok
			reply := protocol.Packet{Ver: 1, Op: protocol.OpAuthReply, Seq: p.Seq}
			out := reply.Append(nil)
			inner := protocol.AppendPush(nil, 1000, fmt.Appendf(nil, "conn %d", n))
			out = append(protocol.AppendRawHeader(out, len(inner)), inner...)
			nc.Write(out)
			if hangUp(n) {
				return
			}
			io.Copy(io.Discard, nc) // until the client closes
		}()
	}
}

// nodesServer serves /goim/nodes/weighted listing 127.0.0.1 with the
// TCP port port and a one-second base backoff.
func nodesServer(t *testing.T, port int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"code":0,"message":"","data":{"domain":"conn.goim.io","tcp_port":%d,"ws_port":0,"wss_port":0,
			"heartbeat":30,"heartbeat_max":3,"nodes":["127.0.0.1"],
			"backoff":{"max_delay":300,"base_delay":1,"factor":1.8,"jitter":0.3}}}`, port)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRunReconnect: with -nodes, a client whose connection is hung up
// asks the nodes URL again, reconnects with the same token after at most
// -max-backoff, prints the reconnect line and then the new connection's
// messages; cancelling ends the run cleanly.
func TestRunReconnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tokens := make(chan client.Token, 4)
	go fakeComet(ln, tokens, func(n int) bool { return n == 1 })
	port := ln.Addr().(*net.TCPAddr).Port
	srv := nodesServer(t, port)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-nodes", srv.URL + "/goim/nodes/weighted", "-key", "k1", "-mid", "5",
			"-heartbeat", "0", "-max-backoff", "50ms"}, &out)
	}()
	want := "op=1000 seq=0 body=conn 1\n" +
		fmt.Sprintf("reconnected to 127.0.0.1:%d after the server closed the connection (EOF)\n", port) +
		"op=1000 seq=0 body=conn 2\n"
	testwait.For(t, 5*time.Second, "the reconnect and the second connection's message", func() bool {
		return len(out.String()) >= len(want)
	})
	if got := out.String(); got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not end after cancel")
	}
	for range 2 {
		if tok := <-tokens; tok.Key != "k1" || tok.Mid != 5 {
			t.Errorf("token %+v, want key k1 mid 5 on every connection", tok)
		}
	}
}

// syncBuffer is a strings.Builder safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestRunNoReconnect: with -reconnect=false the run ends at the first
// hang-up, explained; an auth refusal on a redial ends the run too.
func TestRunNoReconnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tokens := make(chan client.Token, 4)
	go fakeComet(ln, tokens, func(int) bool { return true })
	srv := nodesServer(t, ln.Addr().(*net.TCPAddr).Port)
	var out strings.Builder
	err = run(context.Background(), []string{"-nodes", srv.URL, "-reconnect=false", "-heartbeat", "0"}, &out)
	if !errors.Is(err, io.EOF) || out.String() != "op=1000 seq=0 body=conn 1\n" {
		t.Fatalf("run = %v, output %q; want io.EOF after one message", err, out.String())
	}
}

// TestRunAuthRefusedOnRedial: a redial the comet refuses (it hangs up
// instead of the auth reply) ends the run with client.ErrAuth.
func TestRunAuthRefusedOnRedial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for n := 1; ; n++ {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			if n > 1 {
				nc.Close() // refuses the auth
				continue
			}
			var p protocol.Packet
			p.ReadFrom(bufio.NewReaderSize(nc, 4112), 0)
			reply := protocol.Packet{Ver: 1, Op: protocol.OpAuthReply, Seq: p.Seq}
			nc.Write(reply.Append(nil))
			nc.Close()
		}
	}()
	srv := nodesServer(t, ln.Addr().(*net.TCPAddr).Port)
	err = run(context.Background(), []string{"-nodes", srv.URL, "-heartbeat", "0", "-max-backoff", "10ms"}, io.Discard)
	if !errors.Is(err, client.ErrAuth) {
		t.Fatalf("run = %v, want client.ErrAuth", err)
	}
}

func TestShortWhy(t *testing.T) {
	other := errors.New("dial tcp: refused")
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("client: read: %w", io.EOF), "the server closed the connection (EOF)"},
		{io.ErrUnexpectedEOF, "the server closed the connection (EOF)"},
		{fmt.Errorf("client: read: %w", &websocket.CloseError{Code: 1001, Reason: "draining"}), "WebSocket close 1001: draining"},
		{&websocket.CloseError{Code: 1000}, "WebSocket close 1000: no reason given"},
		{other, other.Error()},
	}
	for _, tt := range tests {
		if got := shortWhy(tt.err); got != tt.want {
			t.Errorf("shortWhy(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
