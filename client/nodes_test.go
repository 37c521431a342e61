package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// nodesAnswer is a /goim/nodes/weighted answer as logic writes it.
const nodesAnswer = `{"code":0,"message":"","data":{
  "domain":"conn.goim.io","tcp_port":3101,"ws_port":3102,"wss_port":0,
  "heartbeat":30,"heartbeat_max":3,
  "nodes":["127.0.0.2","127.0.0.3"],
  "backoff":{"max_delay":300,"base_delay":3,"factor":1.8,"jitter":0.3}}}`

func TestNodes(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    NodesInfo
		wantErr string
	}{
		{name: "ok", status: 200, body: nodesAnswer, want: NodesInfo{
			Domain: "conn.goim.io", TCPPort: 3101, WSPort: 3102, Heartbeat: 30, HeartbeatMax: 3,
			Nodes:   []string{"127.0.0.2", "127.0.0.3"},
			Backoff: Backoff{MaxDelay: 300, BaseDelay: 3, Factor: 1.8, Jitter: 0.3},
		}},
		{name: "code", status: 200, body: `{"code":-400,"message":"bad"}`, wantErr: "code -400: bad"},
		{name: "status", status: 405, body: `{"code":-400}`, wantErr: "HTTP 405"},
		{name: "not json", status: 200, body: `<html>`, wantErr: "invalid character"},
		{name: "bad data", status: 200, body: `{"code":0,"data":{"nodes":"x"}}`, wantErr: "data:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotQuery string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotQuery = r.URL.RawQuery
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			got, err := Nodes(context.Background(), srv.Client(), srv.URL+"/goim/nodes/weighted?platform=android")
			if gotQuery != "platform=android" {
				t.Errorf("query %q, want platform=android", gotQuery)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNodesUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	if _, err := Nodes(context.Background(), http.DefaultClient, url); err == nil {
		t.Fatal("Nodes of a closed server succeeded")
	}
}

func TestNodesAddr(t *testing.T) {
	info := NodesInfo{TCPPort: 3101, WSPort: 3102, Nodes: []string{"127.0.0.2", "127.0.0.3"}}
	tests := []struct {
		info      NodesInfo
		transport string
		want      string
		ok        bool
	}{
		{info, TransportTCP, "127.0.0.2:3101", true},
		{info, TransportTLS, "127.0.0.2:3101", true},
		{info, TransportWS, "127.0.0.2:3102", true},
		{info, TransportWSS, "", false}, // port 0: not offered
		{NodesInfo{TCPPort: 1}, TransportTCP, "", false},
		{NodesInfo{Nodes: []string{"::1"}, TCPPort: 1}, TransportTCP, "[::1]:1", true},
		{NodesInfo{Nodes: []string{"h:9"}}, TransportTCP, "h:9", true},
	}
	for _, tt := range tests {
		got, ok := tt.info.Addr(tt.transport)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%+v.Addr(%q) = %q, %v; want %q, %v", tt.info, tt.transport, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{MaxDelay: 300, BaseDelay: 3, Factor: 1.8, Jitter: 0.3}
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	tests := []struct {
		name  string
		b     Backoff
		n     int
		r     float64
		limit time.Duration
		want  time.Duration
	}{
		{"first, no jitter", b, 0, 0.5, 0, 3 * time.Second},
		{"second grows by factor", b, 1, 0.5, 0, sec(5.4)},
		{"third", b, 2, 0.5, 0, sec(3 * 1.8 * 1.8)},
		{"capped at max", b, 20, 0.5, 0, 300 * time.Second},
		{"huge n capped", b, 1 << 20, 0.5, 0, 300 * time.Second},
		{"lowest jitter", b, 0, 0, 0, sec(3 * 0.7)},
		{"jitter above max", b, 20, 0.999999, 0, sec(300 * 1.299998)},
		{"limit", b, 0, 0.5, 200 * time.Millisecond, 200 * time.Millisecond},
		{"limit above delay", b, 0, 0.5, time.Hour, 3 * time.Second},
		{"zero", Backoff{}, 3, 0.5, 0, 0},
		{"factor below 1 does not shrink", Backoff{MaxDelay: 10, BaseDelay: 2, Factor: 0.5}, 3, 0.5, 0, 2 * time.Second},
		{"max below base", Backoff{MaxDelay: 1, BaseDelay: 2, Factor: 2}, 3, 0.5, 0, 2 * time.Second},
		{"jitter above 1 clamped", Backoff{MaxDelay: 10, BaseDelay: 2, Factor: 1, Jitter: 5}, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		got := tt.b.Delay(tt.n, tt.r, tt.limit)
		if diff := got - tt.want; diff < -time.Millisecond || diff > time.Millisecond {
			t.Errorf("%s: Delay(%d, %v, %v) = %v, want %v", tt.name, tt.n, tt.r, tt.limit, got, tt.want)
		}
	}
}

// TestBackoffJitterBounds: random delays stay within ±Jitter of the
// delay without jitter, and spread over that range.
func TestBackoffJitterBounds(t *testing.T) {
	b := Backoff{MaxDelay: 300, BaseDelay: 3, Factor: 1.8, Jitter: 0.3}
	for n := range 12 {
		mid := b.Delay(n, 0.5, 0)
		lo, hi := time.Duration(float64(mid)*0.7), time.Duration(float64(mid)*1.3)
		minSeen, maxSeen := hi, lo
		for range 1000 {
			d := b.RandomDelay(n, 0)
			if d < lo-time.Microsecond || d > hi+time.Microsecond {
				t.Fatalf("retry %d: delay %v outside [%v, %v]", n, d, lo, hi)
			}
			minSeen, maxSeen = min(minSeen, d), max(maxSeen, d)
		}
		if spread := maxSeen - minSeen; spread < (hi-lo)/2 {
			t.Errorf("retry %d: 1000 delays spread over %v only, want most of %v", n, spread, hi-lo)
		}
	}
}
