package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/internal/chromium"
	"github.com/goimx/goim/protocol"
)

// Files of the browser client, relative to this package.
const (
	goimJS      = "../client/js/goim.js"
	harnessHTML = "../client/js/testdata/harness.html"
)

// browserOp is the push operation the browser's client accepts.
const browserOp = 1000

// browserPage is the harness page loaded in a real browser, with the
// context bounding the test.
type browserPage struct {
	p   *chromium.Page
	ctx context.Context
}

// eval evaluates expr in the page, decoding its value into out.
func (b *browserPage) eval(t testing.TB, expr string, out any) {
	t.Helper()
	if err := b.p.Evaluate(b.ctx, expr, out); err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
}

// wait waits up to timeout for expr to be true in the page.
func (b *browserPage) wait(t testing.TB, timeout time.Duration, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := b.p.WaitTrue(ctx, expr, 20*time.Millisecond); err != nil {
		var states, errs any
		b.p.Evaluate(b.ctx, "harness.states", &states)
		b.p.Evaluate(b.ctx, "harness.errors", &errs)
		t.Fatalf("%v\nstates: %v\nerrors: %v", err, states, errs)
	}
}

// browserRoomSeqs are the room sequence numbers of TestBrowserClient's
// room pushes: r1..r4 to live://js, r5 the first to live://js2, x1 and
// x2 to the token's second room live://jsx, j1..j3 to live://js3 (joined
// with join()). Each room numbers its own messages.
var browserRoomSeqs = map[string]int32{"r1": 1, "r2": 2, "r3": 3, "r4": 4, "r5": 1,
	"x1": 1, "x2": 2, "j1": 1, "j2": 2, "j3": 3}

// texts returns the bodies of the messages the page received, in order,
// checking that each has the browser's op (browserOp+1 for bodies
// starting with "s") and seq 0, or for a room push its room sequence
// number (browserRoomSeqs).
func (b *browserPage) texts(t testing.TB) []string {
	t.Helper()
	var msgs []struct {
		Op   int32  `json:"op"`
		Seq  int32  `json:"seq"`
		Text string `json:"text"`
	}
	b.eval(t, "harness.messages", &msgs)
	out := make([]string, len(msgs))
	for i, m := range msgs {
		want := int32(browserOp)
		if strings.HasPrefix(m.Text, "s") {
			want++
		}
		if m.Op != want || m.Seq != browserRoomSeqs[m.Text] {
			t.Errorf("message %d %q: op %d seq %d, want op %d seq %d", i, m.Text, m.Op, m.Seq, want, browserRoomSeqs[m.Text])
		}
		out[i] = m.Text
	}
	return out
}

// serveBrowserFiles serves the harness page at /, goim.js at /goim.js and
// proxies /goim/ to the push API, as an app would serve its page with the
// API on the same origin.
func serveBrowserFiles(t testing.TB, api string) string {
	t.Helper()
	target, err := url.Parse(api)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	proxy.Transport = tr
	mux := http.NewServeMux()
	mux.Handle("/goim/", proxy)
	mux.HandleFunc("/goim.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, goimJS) })
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, harnessHTML) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// startBrowserCluster starts the all-in-one binary advertising its own
// comet in /goim/nodes/weighted (address 127.0.0.1, its WebSocket port)
// with a 1s heartbeat and a reconnect backoff of 1s ± 20%.
func startBrowserCluster(t testing.TB) *cluster {
	t.Helper()
	p := freePorts(t, 6)
	n := &cometNode{id: "goim-comet", addrs: "127.0.0.1", tcp: loop(p[0]), ws: loop(p[1]), rpc: loop(p[2])}
	c := &cluster{httpURL: "http://" + loop(p[3]), logicRPC: loop(p[4]), jobRPC: loop(p[5]),
		comets: []*cometNode{n}, http: newHTTPClient(t), allInOne: true}
	args := append(commonArgs(),
		"-logic.http", hostPort(c.httpURL), "-logic.rpc", c.logicRPC, "-logic.node-ttl", nodeTTL.String(),
		"-logic.rpc-max-backoff", rpcMaxBackoff, "-logic.ws-port", strconv.Itoa(p[1]),
		"-logic.heartbeat", "1s", "-logic.heartbeat-max", "5",
		"-logic.backoff-base-delay", "1", "-logic.backoff-factor", "1.5", "-logic.backoff-jitter", "0.2",
		"-logic.backoff-max-delay", "3",
		"-comet.node-id", n.id, "-comet.addrs", n.addrs, "-comet.tcp", n.tcp, "-comet.ws", n.ws,
		"-comet.rpc", n.rpc, "-comet.report-interval", reportInterval, "-comet.send-queue", sendQueue,
		"-job.rpc", c.jobRPC, "-job.comet-refresh", cometRefresh, "-job.report-interval", reportInterval)
	c.logic = startProc(t, "goim", "goim", args...)
	t.Cleanup(func() { c.stopAll(t) })
	c.ready(t)
	return c
}

// openHarness loads the harness page in a new tab of br.
func openHarness(t *testing.T, br *chromium.Browser, site string) *browserPage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	b := &browserPage{p: chromium.PageForTest(t, br), ctx: ctx}
	if err := b.p.Navigate(ctx, site+"/"); err != nil {
		t.Fatal(err)
	}
	b.wait(t, 10*time.Second, "window.harnessReady === true")
	return b
}

// TestBrowserCodec checks goim.js's packet codec in a real browser
// against the Go codec: the same bytes for a packet, every inner packet of
// an op-9 batch, and ProtocolError for broken input.
func TestBrowserCodec(t *testing.T) {
	t.Parallel()
	br := chromium.ForTest(t)
	b := openHarness(t, br, serveBrowserFiles(t, "http://127.0.0.1:1"))

	auth := protocol.Packet{Ver: 1, Op: protocol.OpAuth, Seq: 1, Body: []byte(`{"mid":1}`)}
	want := base64.StdEncoding.EncodeToString(auth.Append(nil))
	var got string
	b.eval(t, `btoa(String.fromCharCode(...goim.encodePacket(7, 1, '{"mid":1}')))`, &got)
	if got != want {
		t.Errorf("encodePacket: %s, want the Go codec's %s", got, want)
	}

	var inner []byte
	bodies := []string{"first", "", "third \u00e9"}
	for i, body := range bodies {
		inner = protocol.AppendPush(inner, int32(browserOp+i), []byte(body))
	}
	batch := append(protocol.AppendRawHeader(nil, len(inner)), inner...)
	expr := fmt.Sprintf(`goim.decodePackets(Uint8Array.from(atob(%q), (c) => c.charCodeAt(0)))
		.map((p) => ({op: p.op, seq: p.seq, ver: p.ver, text: new TextDecoder().decode(p.body)}))`,
		base64.StdEncoding.EncodeToString(batch))
	var packets []struct {
		Op, Seq, Ver int32
		Text         string
	}
	b.eval(t, expr, &packets)
	if len(packets) != len(bodies) {
		t.Fatalf("decodePackets of a batch of %d: %+v", len(bodies), packets)
	}
	for i, p := range packets {
		if p.Op != int32(browserOp+i) || p.Seq != 0 || p.Ver != 1 || p.Text != bodies[i] {
			t.Errorf("inner packet %d: %+v, want op %d body %q", i, p, browserOp+i, bodies[i])
		}
	}

	bad := map[string][]byte{
		"short header":     batch[:10],
		"truncated body":   batch[:len(batch)-1],
		"headerLen 12":     func() []byte { b := slices.Clone(batch); b[5] = 12; return b }(),
		"packLen under 16": func() []byte { b := slices.Clone(batch); b[3] = 8; return b }(),
	}
	for name, data := range bad {
		expr := fmt.Sprintf(`(() => { try { goim.decodePackets(Uint8Array.from(atob(%q), (c) => c.charCodeAt(0))); return 'no error' }
			catch (e) { return e.name } })()`, base64.StdEncoding.EncodeToString(data))
		var got string
		b.eval(t, expr, &got)
		if got != "ProtocolError" {
			t.Errorf("decodePackets(%s): %s, want a ProtocolError", name, got)
		}
	}
}

// TestBrowserClient runs goim.js in a real browser against the all-in-one
// binary: the page learns its comet, heartbeat and backoff from
// /goim/nodes/weighted, receives key, room and broadcast pushes in order,
// and, when the server closes its connection (another client takes its
// key), reconnects after the advertised backoff and receives later pushes.
// It is in a second room named by its token and joins a third with
// join(), which it joins again after the reconnect, until leave(). Being
// in several rooms, it cannot resume: the reconnect reports a gap.
func TestBrowserClient(t *testing.T) {
	t.Parallel()
	br := chromium.ForTest(t)
	c := startBrowserCluster(t)
	b := openHarness(t, br, serveBrowserFiles(t, c.httpURL))

	const key, room = "browser-key", "js"
	tk := token(7, key, "live://"+room, browserOp)
	tk.Rooms = []string{"live://jsx"}
	tok, _ := json.Marshal(tk)
	// The token is a function, called on every (re)connect; resume adds
	// room_seq and room_epoch to the object it returns.
	b.eval(t, fmt.Sprintf(`harness.tokenCalls = [];
		harness.start({nodesURL: '/goim/nodes/weighted?platform=test', resume: true,
			token: (info) => { harness.tokenCalls.push(info); return %s; }})`, tok), nil)
	b.wait(t, 15*time.Second, "harness.count('open') === 1")
	// Heartbeats every second, as advertised (the default is 30s): three
	// replies, each counting this client in its room.
	b.wait(t, 10*time.Second, "harness.online.length >= 3")
	var online []int
	b.eval(t, "harness.online", &online)
	if slices.Contains(online, 0) {
		t.Errorf("heartbeat replies count %v online, want the client counted", online)
	}

	// Each burst keeps its order (one path through the server); a burst
	// starts once the page has the previous one, since pushes of different
	// kinds take different paths and may overtake each other.
	var want []string
	burst := func(path string, q url.Values, bodies ...string) {
		t.Helper()
		for _, body := range bodies {
			d := c.pushOK(t, path, q, body)
			if reached := max(d.Conns, d.Comets); reached < 1 {
				t.Errorf("push %s %q: %+v, want it to reach the browser's connection", path, body, d)
			}
		}
		want = append(want, bodies...)
		b.wait(t, 10*time.Second, fmt.Sprintf("harness.messages.length >= %d", len(want)))
		if got := b.texts(t); !slices.Equal(got, want) {
			t.Fatalf("after %s the page received %q, want %q", path, got, want)
		}
	}
	op := strconv.Itoa(browserOp)
	keys := url.Values{"operation": {op}, "keys": {key}}
	rooms := url.Values{"operation": {op}, "type": {"live"}, "room": {room}}
	burst("/goim/push/keys", keys, "k1", "k2", "k3")
	burst("/goim/push/room", rooms, "r1", "r2", "r3")
	burst("/goim/push/all", url.Values{"operation": {op}}, "a1", "a2")
	roomQ := func(id string) url.Values { return url.Values{"operation": {op}, "type": {"live"}, "room": {id}} }
	burst("/goim/push/room", roomQ("jsx"), "x1") // the token's second room

	// join resolves on the join reply and the room's pushes follow; a bad
	// room id is refused with a RoomError.
	var joined struct {
		Op, Seq, Status int
		Room            string
	}
	b.eval(t, "harness.client.join('live://js3')", &joined)
	if joined.Op != int(protocol.OpJoinRoomReply) || joined.Status != int(protocol.RoomOK) || joined.Room != "live://js3" {
		t.Errorf("join resolved with %+v, want op 21, status 0, room live://js3", joined)
	}
	var refused struct {
		Name   string
		Status int
	}
	b.eval(t, "harness.client.join('r'.repeat(257)).then(() => ({name: 'resolved'}), (e) => ({name: e.name, status: e.status}))", &refused)
	if refused.Name != "RoomError" || refused.Status != int(protocol.RoomBadID) {
		t.Errorf("join of a 257-byte room id: %+v, want a RoomError with status %d", refused, protocol.RoomBadID)
	}
	burst("/goim/push/room", roomQ("js3"), "j1", "j2")

	// Another client authenticates with the page's key: the server closes
	// the page's connection. The page reconnects after 1s ± 20% and takes
	// the key back, closing the other client.
	other := dialClient(t, "key-thief", "ws", c.comets[0].ws, token(8, key, "", browserOp))
	b.wait(t, 10*time.Second, "harness.count('reconnecting') === 1")
	b.wait(t, 15*time.Second, "harness.count('open') === 2")
	other.waitClosed(t)
	var states []struct {
		State  string  `json:"state"`
		Delay  float64 `json:"delay"`
		Reason string  `json:"reason"`
	}
	b.eval(t, "harness.states", &states)
	var calls []struct{ Attempt, RoomSeq, RoomEpoch int }
	b.eval(t, "harness.tokenCalls", &calls)
	// The page is in several rooms and a packet does not say its room, so
	// the client does not track the primary room's number: roomSeq and
	// roomEpoch stay 0 (resume covers a connection in its primary room
	// only; TestBrowserResume).
	if len(calls) != 2 || calls[1].Attempt != 0 || calls[1].RoomSeq != 0 || calls[1].RoomEpoch != 0 {
		t.Errorf("token function called with %+v, want twice (connect, reconnect), attempt 0, roomSeq and roomEpoch 0", calls)
	}
	// With resume on, a connection in several rooms cannot resume: the
	// reconnect's auth reply says resumed: false, and a gap event tells
	// the app so.
	var gaps []struct {
		RoomID  string `json:"room_id"`
		Resumed bool   `json:"resumed"`
	}
	b.eval(t, "harness.gaps", &gaps)
	if len(gaps) != 1 || gaps[0].RoomID != "live://"+room || gaps[0].Resumed {
		t.Errorf("gap events %+v, want one, for live://%s, resumed false", gaps, room)
	}
	for _, s := range states {
		if s.State == "reconnecting" && (s.Delay < 800 || s.Delay > 1200) {
			t.Errorf("reconnect delay %.0f ms, want the advertised 1s ± 20%% (reason %q)", s.Delay, s.Reason)
		}
	}

	burst("/goim/push/keys", keys, "k4")
	burst("/goim/push/room", rooms, "r4")
	burst("/goim/push/room", roomQ("jsx"), "x2") // the token's rooms again
	// The room joined with join() is joined again on the new connection.
	b.wait(t, 10*time.Second, "harness.rejoined.length === 1")
	var rejoined [][]string
	b.eval(t, "harness.rejoined", &rejoined)
	if len(rejoined) != 1 || !slices.Equal(rejoined[0], []string{"live://js3"}) {
		t.Errorf("rejoined %q, want [[live://js3]]", rejoined)
	}
	burst("/goim/push/room", roomQ("js3"), "j3")
	var left struct{ Op, Status int }
	b.eval(t, "harness.client.leave('live://js3')", &left)
	if left.Op != int(protocol.OpLeaveRoomReply) || left.Status != int(protocol.RoomOK) {
		t.Errorf("leave resolved with %+v, want op 23, status 0", left)
	}
	c.pushOK(t, "/goim/push/room", roomQ("js3"), "after leave") // must not arrive: texts compares all

	// Requests resolve on their replies and take effect.
	for _, tt := range []struct {
		expr string
		op   int
	}{
		{"harness.client.changeRoom('live://js2')", 13},
		{"harness.client.sub(1001)", 15},
		{"harness.client.send(1500, 'from the page')", 1500},
	} {
		var r struct{ Op, Seq int }
		b.eval(t, tt.expr, &r)
		if r.Op != tt.op || r.Seq < 2 {
			t.Errorf("%s resolved with %+v, want op %d and the request's seq", tt.expr, r, tt.op)
		}
	}
	burst("/goim/push/room", url.Values{"operation": {op}, "type": {"live"}, "room": {"js2"}}, "r5")
	burst("/goim/push/keys", url.Values{"operation": {strconv.Itoa(browserOp + 1)}, "keys": {key}}, "s1")
	var r struct{ Op int }
	b.eval(t, "harness.client.unsub(1001)", &r)
	if r.Op != 17 {
		t.Errorf("unsub resolved with op %d, want 17", r.Op)
	}

	b.eval(t, "harness.client.close()", nil)
	b.wait(t, 5*time.Second, "harness.client.state === 'closed'")
	var errs []string
	b.eval(t, "harness.errors", &errs)
	if len(errs) > 0 {
		t.Errorf("client errors: %q", errs)
	}
}
