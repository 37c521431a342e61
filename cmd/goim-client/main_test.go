package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/goimx/goim/bufio"
	"github.com/goimx/goim/client"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

func TestParseFlags(t *testing.T) {
	const nodes = "http://127.0.0.1:3111/goim/nodes/weighted"
	tests := []struct {
		args    []string
		want    options
		wantErr bool
	}{
		{args: nil, want: options{cfg: client.Config{Transport: "tcp", Addr: "127.0.0.1:3101", Token: client.Token{Platform: "web"}, Heartbeat: 30e9}}},
		{
			args: []string{"-transport", "ws", "-mid", "7", "-key", "k", "-room", "live://1", "-accepts", "1000, 1001", "-heartbeat", "0"},
			want: options{cfg: client.Config{Transport: "ws", Addr: "127.0.0.1:3102",
				Token: client.Token{Mid: 7, Key: "k", RoomID: "live://1", Platform: "web", Accepts: []int32{1000, 1001}}}},
		},
		{args: []string{"-addr", "ws://h:1/sub", "-transport", ""},
			want: options{addrSet: true, cfg: client.Config{Addr: "ws://h:1/sub", Token: client.Token{Platform: "web"}, Heartbeat: 30e9}}},
		{args: []string{"-nodes", nodes, "-max-backoff", "200ms"},
			want: options{nodes: nodes, reconnect: true, maxBackoff: 200e6,
				cfg: client.Config{Transport: "tcp", Addr: "127.0.0.1:3101", Token: client.Token{Platform: "web"}, Heartbeat: 30e9}}},
		{args: []string{"-nodes", nodes, "-reconnect=false"},
			want: options{nodes: nodes, cfg: client.Config{Transport: "tcp", Addr: "127.0.0.1:3101", Token: client.Token{Platform: "web"}, Heartbeat: 30e9}}},
		{args: []string{"-reconnect"}, // no -nodes: nowhere to reconnect to
			want: options{cfg: client.Config{Transport: "tcp", Addr: "127.0.0.1:3101", Token: client.Token{Platform: "web"}, Heartbeat: 30e9}}},
		{args: []string{"-max-backoff", "-1s"}, wantErr: true},
		{args: []string{"-accepts", "x"}, wantErr: true},
		{args: []string{"-transport", "udp"}, wantErr: true},
		{args: []string{"extra"}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseFlags(tt.args, io.Discard)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseFlags(%q) succeeded", tt.args)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseFlags(%q): %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(options{})); diff != "" {
			t.Errorf("parseFlags(%q) (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestAppendLine(t *testing.T) {
	tests := []struct {
		m    client.Message
		want string
	}{
		{client.Message{Op: 1000, Body: []byte(`{"a":1}`)}, `op=1000 seq=0 body={"a":1}` + "\n"},
		{client.Message{Op: 3, Seq: 4, Body: []byte{0, 0, 0, 9}}, "op=3 seq=4 online=9\n"},
		{client.Message{Op: 13, Seq: 5}, "op=13 seq=5\n"},
		{client.Message{Op: 1001, Body: []byte("a\nb\xff")}, `op=1001 seq=0 body="a\nb\xff"` + "\n"},
	}
	for _, tt := range tests {
		if got := string(appendLine(nil, tt.m)); got != tt.want {
			t.Errorf("appendLine(%v) = %q, want %q", tt.m, got, tt.want)
		}
	}
}

// TestRun runs the command against a fake TCP comet that accepts the
// auth, pushes a batch and a heartbeat reply, and hangs up.
func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	token := make(chan client.Token, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		var p protocol.Packet
		if err := p.ReadFrom(bufio.NewReaderSize(nc, 4112), 0); err != nil {
			return
		}
		var tok client.Token
		json.Unmarshal(p.Body, &tok)
		token <- tok
		reply := protocol.Packet{Ver: 1, Op: protocol.OpAuthReply, Seq: p.Seq}
		out := reply.Append(nil)
		inner := protocol.AppendPush(protocol.AppendPush(nil, 1000, []byte("hi")), 1001, nil)
		out = append(protocol.AppendRawHeader(out, len(inner)), inner...)
		out = protocol.AppendHeartbeatReply(out, 2, 5)
		nc.Write(out)
	}()
	var out bytes.Buffer
	err = run(context.Background(), []string{"-addr", ln.Addr().String(), "-mid", "9", "-accepts", "1000,1001", "-heartbeat", "0"}, &out)
	if !errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "same -key") {
		t.Fatalf("run = %v, want io.EOF at the server's hang-up, explained", err)
	}
	want := "op=1000 seq=0 body=hi\nop=1001 seq=0\nop=3 seq=2 online=5\n"
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	if tok := <-token; tok.Mid != 9 || len(tok.Accepts) != 2 {
		t.Errorf("token %+v", tok)
	}
}

// TestClosedWhy: the reason of a WebSocket close frame is printed; a TCP
// hang-up lists the usual reasons; other errors stay as they are.
func TestClosedWhy(t *testing.T) {
	other := errors.New("client: read: connection reset by peer")
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("client: read: %w", &websocket.CloseError{Code: 1008, Reason: "replaced by a newer connection"}),
			"closed by the server (WebSocket close 1008: replaced by a newer connection)"},
		{&websocket.CloseError{Code: 1000}, "(WebSocket close 1000: no reason given)"},
		{fmt.Errorf("client: read: %w", io.EOF), "another client authenticated with the same -key"},
		{other, other.Error()},
	}
	for _, tt := range tests {
		got := closedWhy(tt.err)
		if !strings.Contains(got.Error(), tt.want) || !errors.Is(got, tt.err) {
			t.Errorf("closedWhy(%v) = %v, want it to contain %q and wrap the error", tt.err, got, tt.want)
		}
	}
}
