package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/goimx/goim/internal/testwait"
)

// clientSpec describes one client of the push suite.
type clientSpec struct {
	name      string
	comet     int // index into the cluster's comets, modulo their number
	transport string
	mid       int64
	key       string
	room      string
	accepts   []int32
}

// suiteClients are the push suite's clients: mid 1 has two devices on
// two comets; room live://1000 spans both comets; each client accepts
// different operations. With one comet (the all-in-one binary) they all
// go to it.
var suiteClients = []clientSpec{
	{"a-tcp", 0, "tcp", 1, "key-a-tcp", "live://1000", []int32{1000, 1001}},
	{"a-ws", 0, "ws", 2, "key-a-ws", "live://1000", []int32{1000}},
	{"b-tcp", 1, "tcp", 1, "key-b-tcp", "live://1000", []int32{1000, 1001}},
	{"b-ws", 1, "ws", 3, "key-b-ws", "live://2000", []int32{1000, 1002}},
}

// fixture is a cluster with connected clients.
type fixture struct {
	c       *cluster
	specs   []clientSpec
	clients map[string]*tclient
}

// connect dials every spec's client to its comet.
func connect(t testing.TB, c *cluster, specs []clientSpec) *fixture {
	t.Helper()
	f := &fixture{c: c, specs: specs, clients: make(map[string]*tclient)}
	for _, s := range specs {
		n := f.cometOf(s)
		addr := n.tcp
		if s.transport == "ws" {
			addr = n.ws
		}
		f.clients[s.name] = dialClient(t, s.name, s.transport, addr, token(s.mid, s.key, s.room, s.accepts...))
	}
	f.sync(t)
	return f
}

// syncOp is an operation every client accepts, for sync pushes.
const syncOp = 1000

// sync waits until every client is reachable by a push to its key, then
// drains what the clients received so far.
//
// It works around a comet race: a comet answers the auth packet before it
// puts the connection in its bucket and room, so a push that arrives right
// after a client's Dial returned can miss it (a "key miss").
func (f *fixture) sync(t testing.TB) {
	t.Helper()
	keys := url.Values{"operation": {strconv.Itoa(syncOp)}, "keys": f.allKeys()}
	attempt := 0
	testwait.ForReason(t, recvTimeout, "every client to be reachable", func() (bool, string) {
		attempt++
		body := fmt.Sprintf("sync-%d", attempt)
		f.c.pushOK(t, "/goim/push/keys", keys, body)
		for _, s := range f.specs {
			if !f.clients[s.name].receivedWithin(body, 500*time.Millisecond) {
				return false, s.name + " missed " + body
			}
		}
		return true, ""
	})
	f.c.pushOK(t, "/goim/push/keys", keys, "synced")
	for _, s := range f.specs {
		f.clients[s.name].untilSkipping(t, "synced", "sync-")
	}
}

// cometOf returns the comet of spec s.
func (f *fixture) cometOf(s clientSpec) *cometNode {
	return f.c.comets[s.comet%len(f.c.comets)]
}

// cometsOf returns how many distinct comets hold the clients named.
func (f *fixture) cometsOf(names ...string) int {
	seen := map[string]bool{}
	for _, s := range f.specs {
		if slices.Contains(names, s.name) {
			seen[f.cometOf(s).id] = true
		}
	}
	return len(seen)
}

// expect reads every client's messages up to fence and compares them with
// want (a client missing from want must get nothing before the fence).
func (f *fixture) expect(t testing.TB, fence string, want map[string][]msg) {
	t.Helper()
	for _, s := range f.specs {
		got := f.clients[s.name].until(t, fence)
		if diff := cmp.Diff(want[s.name], got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s received before %q (-want +got):\n%s", s.name, fence, diff)
		}
	}
}

// allKeys returns every client's key.
func (f *fixture) allKeys() []string {
	var keys []string
	for _, s := range f.specs {
		keys = append(keys, s.key)
	}
	return keys
}

// runPushSuite checks every push endpoint against what the clients
// receive, and the online and nodes endpoints against the clients
// connected, on cluster c. It returns the connected clients.
func runPushSuite(t *testing.T, c *cluster) *fixture {
	f := connect(t, c, suiteClients)
	t.Run("keys", f.testKeys)
	t.Run("mids", f.testMids)
	t.Run("room", f.testRoom)
	t.Run("all", f.testAll)
	t.Run("bad-requests", f.testBadRequests)
	t.Run("online", f.testOnline)
	t.Run("nodes-weighted", f.testNodesWeighted)
	t.Run("nodes-instances", f.testNodesInstances)
	t.Run("room-order", f.testRoomOrder)
	return f
}

// testKeys: a push to keys reaches only the named connections that
// accept its operation, on whichever comet they are.
func (f *fixture) testKeys(t *testing.T) {
	c := f.c
	q := url.Values{"operation": {"1001"}, "keys": {"key-a-tcp", "key-a-ws", "key-b-ws", "key-offline"}}
	got := c.pushOK(t, "/goim/push/keys", q, "keys-1001")
	want := pushData{Conns: 3, Comets: f.cometsOf("a-tcp", "a-ws", "b-ws")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("push keys data (-want +got):\n%s", diff)
	}
	c.pushOK(t, "/goim/push/keys", url.Values{"operation": {"1002"}, "keys": {"key-b-ws", "key-b-tcp"}}, "keys-1002")
	c.pushOK(t, "/goim/push/keys", url.Values{"operation": {"1000"}, "keys": f.allKeys()}, "fence-keys")
	f.expect(t, "fence-keys", map[string][]msg{
		"a-tcp": {{1001, "keys-1001"}},
		"b-ws":  {{1002, "keys-1002"}},
	})
}

// testMids: a push to mids reaches every device of each user that
// accepts its operation.
func (f *fixture) testMids(t *testing.T) {
	c := f.c
	got := c.pushOK(t, "/goim/push/mids", url.Values{"operation": {"1001"}, "mids": {"1,2"}}, "mids-1001")
	want := pushData{Conns: 3, Comets: f.cometsOf("a-tcp", "b-tcp", "a-ws")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("push mids data (-want +got):\n%s", diff)
	}
	got = c.pushOK(t, "/goim/push/mids", url.Values{"operation": {"1000"}, "mids": {"1", "404"}}, "mids-1000")
	if want := (pushData{Conns: 2, Comets: f.cometsOf("a-tcp", "b-tcp")}); got != want {
		t.Errorf("push mids=1: data %+v, want %+v", got, want)
	}
	c.pushOK(t, "/goim/push/mids", url.Values{"operation": {"1000"}, "mids": {"1", "2", "3"}}, "fence-mids")
	f.expect(t, "fence-mids", map[string][]msg{
		"a-tcp": {{1001, "mids-1001"}, {1000, "mids-1000"}},
		"b-tcp": {{1001, "mids-1001"}, {1000, "mids-1000"}},
	})
}

// testRoom: a push to a room reaches every connection in it, on both
// comets, whatever operations they accept, and no one else.
func (f *fixture) testRoom(t *testing.T) {
	c := f.c
	got := c.pushOK(t, "/goim/push/room", url.Values{"operation": {"1005"}, "type": {"live"}, "room": {"1000"}}, "room-1000")
	if want := (pushData{Comets: len(c.comets)}); got != want {
		t.Errorf("push room data %+v, want %+v", got, want)
	}
	c.pushOK(t, "/goim/push/room", url.Values{"operation": {"1006"}, "type": {"live"}, "room": {"2000"}}, "room-2000")
	c.pushOK(t, "/goim/push/room", url.Values{"operation": {"1007"}, "type": {"live"}, "room": {"3000"}}, "room-3000")
	for _, room := range []string{"1000", "2000"} {
		c.pushOK(t, "/goim/push/room", url.Values{"operation": {"1000"}, "type": {"live"}, "room": {room}}, "fence-room")
	}
	f.expect(t, "fence-room", map[string][]msg{
		"a-tcp": {{1005, "room-1000"}},
		"a-ws":  {{1005, "room-1000"}},
		"b-tcp": {{1005, "room-1000"}},
		"b-ws":  {{1006, "room-2000"}},
	})
}

// testAll: a broadcast reaches every connection that accepts its
// operation, on every comet.
func (f *fixture) testAll(t *testing.T) {
	c := f.c
	got := c.pushOK(t, "/goim/push/all", url.Values{"operation": {"1002"}}, "all-1002")
	if want := (pushData{Comets: len(c.comets)}); got != want {
		t.Errorf("push all data %+v, want %+v", got, want)
	}
	c.pushOK(t, "/goim/push/all", url.Values{"operation": {"1001"}, "speed": {"0"}}, "all-1001")
	c.pushOK(t, "/goim/push/all", url.Values{"operation": {"1000"}}, "fence-all")
	f.expect(t, "fence-all", map[string][]msg{
		"a-tcp": {{1001, "all-1001"}},
		"b-tcp": {{1001, "all-1001"}},
		"b-ws":  {{1002, "all-1002"}},
	})
}

// testBadRequests: parameter errors are HTTP 400 with code -400 naming
// the parameter, and push nothing.
func (f *fixture) testBadRequests(t *testing.T) {
	c := f.c
	tests := []struct {
		method, path string
		q            url.Values
		status       int
	}{
		{http.MethodPost, "/goim/push/keys", url.Values{"keys": {"key-a-tcp"}}, http.StatusBadRequest},
		{http.MethodPost, "/goim/push/mids", url.Values{"operation": {"1000"}, "mids": {"x"}}, http.StatusBadRequest},
		{http.MethodPost, "/goim/push/room", url.Values{"operation": {"1000"}, "type": {"live"}}, http.StatusBadRequest},
		{http.MethodGet, "/goim/online/top", url.Values{"type": {"live"}}, http.StatusBadRequest},
		{http.MethodGet, "/goim/push/all", url.Values{"operation": {"1000"}}, http.StatusMethodNotAllowed},
		{http.MethodGet, "/goim/nope", nil, http.StatusNotFound},
	}
	for _, tt := range tests {
		status, r := c.do(t, tt.method, tt.path, tt.q, "bad")
		if status != tt.status || r.Code != -400 || r.Message == "" {
			t.Errorf("%s %s?%s: HTTP %d %+v, want HTTP %d, code -400 with a message", tt.method, tt.path, tt.q.Encode(), status, r, tt.status)
		}
	}
	c.pushOK(t, "/goim/push/keys", url.Values{"operation": {"1000"}, "keys": f.allKeys()}, "fence-bad")
	f.expect(t, "fence-bad", nil)
}

// onlineWant are the online answers the suite's clients make.
func (f *fixture) onlineWant() (top []map[string]any, rooms map[string]any, total map[string]any) {
	counts := map[string]int{}
	ips := map[string]bool{}
	for _, s := range f.specs {
		_, id, _ := strings.Cut(s.room, "://")
		counts[id]++
		ips[f.cometOf(s).id] = true // one IP (127.0.0.1) per comet
	}
	top = []map[string]any{{"room_id": "1000", "count": float64(counts["1000"])}, {"room_id": "2000", "count": float64(counts["2000"])}}
	rooms = map[string]any{"1000": float64(counts["1000"]), "2000": float64(counts["2000"]), "3000": float64(0)}
	total = map[string]any{"conn_count": float64(len(f.specs)), "ip_count": float64(len(ips))}
	return top, rooms, total
}

// jsonValue returns v as encoding/json decodes it into an any.
func jsonValue(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// testOnline: the online endpoints count the clients of both comets.
func (f *fixture) testOnline(t *testing.T) {
	top, rooms, total := f.onlineWant()
	checks := []struct {
		path string
		q    url.Values
		want any
	}{
		{"/goim/online/top", url.Values{"type": {"live"}, "limit": {"10"}}, top},
		{"/goim/online/top", url.Values{"type": {"live"}, "limit": {"1"}}, top[:1]},
		{"/goim/online/room", url.Values{"type": {"live"}, "rooms": {"1000,2000", "3000"}}, rooms},
		{"/goim/online/total", nil, total},
	}
	for _, ch := range checks {
		testwait.ForReason(t, recvTimeout, "GET "+ch.path, func() (bool, string) {
			status, r := f.c.get(t, ch.path, ch.q)
			var got any
			if status != http.StatusOK || r.Code != 0 {
				return false, fmt.Sprintf("HTTP %d %+v", status, r)
			}
			decode(t, r, &got)
			diff := cmp.Diff(jsonValue(t, ch.want), got)
			return diff == "", "(-want +got):\n" + diff
		})
	}
}

// testNodesWeighted: /goim/nodes/weighted lists every comet, by client
// address or by host name for web clients.
func (f *fixture) testNodesWeighted(t *testing.T) {
	var addrs, hosts []string
	host, _ := os.Hostname()
	for _, n := range f.c.comets {
		addrs = append(addrs, n.addrs)
		hosts = append(hosts, host+".goim.io")
	}
	tcpPort, wsPort, wssPort := float64(3101), float64(3102), float64(3103)
	if f.c.allInOne { // logic advertises its own comet's ports; no certificate: no WSS
		tcpPort, wsPort, wssPort = float64(portOf(f.c.comets[0].tcp)), float64(portOf(f.c.comets[0].ws)), 0
	}
	for _, platform := range []string{"android", "web"} {
		want := map[string]any{
			"domain": "conn.goim.io", "tcp_port": tcpPort, "ws_port": wsPort, "wss_port": wssPort,
			"heartbeat": float64(30), "heartbeat_max": float64(3),
			"backoff": map[string]any{"max_delay": float64(300), "base_delay": float64(3), "factor": 1.8, "jitter": 0.3},
		}
		wantNodes := addrs
		if platform == "web" {
			wantNodes = hosts
		}
		status, r := f.c.get(t, "/goim/nodes/weighted", url.Values{"platform": {platform}})
		if status != http.StatusOK || r.Code != 0 {
			t.Fatalf("nodes weighted: HTTP %d %+v", status, r)
		}
		var got map[string]any
		decode(t, r, &got)
		var nodes []string
		for _, n := range got["nodes"].([]any) {
			nodes = append(nodes, n.(string))
		}
		delete(got, "nodes")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("nodes weighted platform=%s (-want +got):\n%s", platform, diff)
		}
		if !equalStrings(nodes, wantNodes) {
			t.Errorf("nodes weighted platform=%s: nodes %v, want %v in any order", platform, nodes, wantNodes)
		}
	}
}

// portOf returns the port of host:port.
func portOf(hostPort string) int {
	_, p, _ := net.SplitHostPort(hostPort)
	n, _ := strconv.Atoi(p)
	return n
}

// testNodesInstances: both instance endpoints list every comet with its
// RPC address and the counts of its clients.
func (f *fixture) testNodesInstances(t *testing.T) {
	host, _ := os.Hostname()
	var want []instance
	for _, n := range f.c.comets {
		conns := 0
		for _, s := range f.specs {
			if f.cometOf(s) == n {
				conns++
			}
		}
		want = append(want, instance{Hostname: host, AppID: "goim.comet", Addrs: []string{"rpc://" + n.rpc},
			Metadata: map[string]string{"addrs": n.addrs, "conn_count": strconv.Itoa(conns), "ip_count": "1",
				"offline": "false", "weight": "10"}})
	}
	for _, path := range []string{"/nodes/instances", "/goim/nodes/instances"} {
		testwait.ForReason(t, recvTimeout, "GET "+path, func() (bool, string) {
			got, err := f.c.instances(path)
			if err != nil {
				return false, err.Error()
			}
			for i := range got {
				if got[i].LatestTimestamp <= 0 {
					return false, fmt.Sprintf("latest_timestamp %d", got[i].LatestTimestamp)
				}
				got[i].LatestTimestamp = 0
			}
			diff := cmp.Diff(want, got)
			return diff == "", "(-want +got):\n" + diff
		})
	}
}

// testRoomOrder: a room's messages arrive in the order they were pushed,
// at every member on both comets and over both transports.
func (f *fixture) testRoomOrder(t *testing.T) {
	const n = 200
	var want []msg
	for i := range n {
		body := fmt.Sprintf("order-%03d", i)
		f.c.pushOK(t, "/goim/push/room", url.Values{"operation": {"1000"}, "type": {"live"}, "room": {"1000"}}, body)
		want = append(want, msg{1000, body})
	}
	f.c.pushOK(t, "/goim/push/room", url.Values{"operation": {"1000"}, "type": {"live"}, "room": {"1000"}}, "fence-order")
	f.c.pushOK(t, "/goim/push/room", url.Values{"operation": {"1000"}, "type": {"live"}, "room": {"2000"}}, "fence-order")
	f.expect(t, "fence-order", map[string][]msg{"a-tcp": want, "a-ws": want, "b-tcp": want})
}
