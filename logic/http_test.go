package logic

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
	"github.com/google/go-cmp/cmp"
)

// httpEnv is a Logic with two comets, two jobs and a few sessions:
// k1 (mid 1) and k2 (mid 1) on c1, k3 (mid 2) on c2.
func httpEnv(t *testing.T) *testEnv { return httpEnvWith(t, nil) }

// httpEnvWith is httpEnv with the Config changed by mod.
func httpEnvWith(t *testing.T, mod func(*Config)) *testEnv {
	t.Helper()
	e := newTestEnv(t, mod)
	c1 := logicrpc.NodeInfo{
		ID: "c1", Kind: logicrpc.KindComet, RPCAddr: "192.168.1.30:3109", Addrs: []string{"47.89.10.97"},
		Hostname: "test", Region: "sh", Zone: "sh001", Env: "dev", Weight: 10, ConnCount: 1, IPCount: 1,
	}
	e.report(t, c1, map[string]int32{"live://1000": 100, "live://2000": 200, "live://3000": 300})
	c2 := cometInfo("c2")
	c2.ConnCount, c2.IPCount, c2.Offline = 2, 2, true
	e.report(t, c2, map[string]int32{"live://1000": 1})
	e.addJob(t, "j1")
	e.addJob(t, "j2")
	e.connect(t, "c1", 1, `{"mid":1,"key":"k1"}`)
	e.connect(t, "c1", 2, `{"mid":1,"key":"k2"}`)
	e.connect(t, "c2", 1, `{"mid":2,"key":"k3"}`)
	return e
}

// do runs one request through the handler and returns the status and the
// decoded JSON body.
func do(t *testing.T, h http.Handler, method, target, body string) (int, any) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	raw, _ := io.ReadAll(res.Body)
	if method == http.MethodHead {
		return res.StatusCode, nil
	}
	if ct := res.Header.Get("Content-Type"); ct != contentType {
		t.Errorf("%s %s: Content-Type %q", method, target, ct)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, target, raw, err)
	}
	return res.StatusCode, v
}

func jsonValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad test JSON %q: %v", s, err)
	}
	return v
}

type httpCase struct {
	name   string
	method string
	target string
	body   string
	status int
	want   string // exact JSON answer
}

func runHTTPCases(t *testing.T, h http.Handler, cases []httpCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			status, got := do(t, h, tt.method, tt.target, tt.body)
			if status != tt.status {
				t.Errorf("status %d, want %d", status, tt.status)
			}
			if diff := cmp.Diff(jsonValue(t, tt.want), got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHTTPPush(t *testing.T) {
	e := httpEnv(t)
	runHTTPCases(t, e.l.Handler(), httpPushCases())
}

// httpPushCases are the push requests to an httpEnv and their answers.
func httpPushCases() []httpCase {
	big := strings.Repeat("x", DefaultMaxMessageSize+1)
	full := strings.Repeat("x", DefaultMaxMessageSize)
	return []httpCase{
		{"keys", "POST", "/goim/push/keys?operation=1000&keys=k1&keys=k3", "hi", 200, `{"code":0,"message":"","data":{"conns":2,"comets":2}}`},
		{"keys duplicate and offline", "POST", "/goim/push/keys?operation=1000&keys=k1&keys=k1&keys=nope", "hi", 200, `{"code":0,"message":"","data":{"conns":1,"comets":1}}`},
		{"keys all offline", "POST", "/goim/push/keys?operation=1000&keys=nope", "hi", 200, `{"code":0,"message":"","data":{"conns":0,"comets":0}}`},
		{"keys empty body", "POST", "/goim/push/keys?operation=1000&keys=k1", "", 200, `{"code":0,"message":"","data":{"conns":1,"comets":1}}`},
		{"keys body at limit", "POST", "/goim/push/keys?operation=1000&keys=k1", full, 200, `{"code":0,"message":"","data":{"conns":1,"comets":1}}`},
		{"keys body too large", "POST", "/goim/push/keys?operation=1000&keys=k1", big, 400, `{"code":-400,"message":"message too large: 4097 bytes, limit 4096"}`},
		{"keys no operation", "POST", "/goim/push/keys?keys=k1", "hi", 400, `{"code":-400,"message":"bad parameter operation: missing"}`},
		{"keys empty operation", "POST", "/goim/push/keys?operation=&keys=k1", "hi", 400, `{"code":-400,"message":"bad parameter operation: missing"}`},
		{"keys bad operation", "POST", "/goim/push/keys?operation=x&keys=k1", "hi", 400, `{"code":-400,"message":"bad parameter operation: not an int32: \"x\""}`},
		{"keys operation overflow", "POST", "/goim/push/keys?operation=2147483648&keys=k1", "hi", 400, `{"code":-400,"message":"bad parameter operation: not an int32: \"2147483648\""}`},
		{"keys missing", "POST", "/goim/push/keys?operation=1000", "hi", 400, `{"code":-400,"message":"bad parameter keys: missing"}`},
		{"keys empty", "POST", "/goim/push/keys?operation=1000&keys=", "hi", 400, `{"code":-400,"message":"bad parameter keys: missing"}`},
		{"keys bad escape", "POST", "/goim/push/keys?operation=1000&keys=%zz", "hi", 400, `{"code":-400,"message":"bad parameter keys: bad escape: \"keys=%zz\""}`},
		{"keys GET", "GET", "/goim/push/keys?operation=1000&keys=k1", "", 405, `{"code":-400,"message":"method GET not allowed, use POST"}`},
		{"mids repeated", "POST", "/goim/push/mids?operation=1000&mids=1&mids=2", "hi", 200, `{"code":0,"message":"","data":{"conns":3,"comets":2}}`},
		{"mids commas", "POST", "/goim/push/mids?operation=1000&mids=1,2,,3", "hi", 200, `{"code":0,"message":"","data":{"conns":3,"comets":2}}`},
		{"mids offline", "POST", "/goim/push/mids?operation=1000&mids=99", "hi", 200, `{"code":0,"message":"","data":{"conns":0,"comets":0}}`},
		{"mids bad", "POST", "/goim/push/mids?operation=1000&mids=1,x", "hi", 400, `{"code":-400,"message":"bad parameter mids: not an int64: \"x\""}`},
		{"mids missing", "POST", "/goim/push/mids?operation=1000", "hi", 400, `{"code":-400,"message":"bad parameter mids: missing"}`},
		{"mids only commas", "POST", "/goim/push/mids?operation=1000&mids=,,", "hi", 400, `{"code":-400,"message":"bad parameter mids: missing"}`},
		{"room", "POST", "/goim/push/room?operation=1000&type=live&room=1000", "hi", 200, `{"code":0,"message":"","data":{"comets":2}}`},
		{"room no type", "POST", "/goim/push/room?operation=1000&room=1000", "hi", 400, `{"code":-400,"message":"bad parameter type: missing"}`},
		{"room no room", "POST", "/goim/push/room?operation=1000&type=live", "hi", 400, `{"code":-400,"message":"bad parameter room: missing"}`},
		{"room no operation", "POST", "/goim/push/room?type=live&room=1", "hi", 400, `{"code":-400,"message":"bad parameter operation: missing"}`},
		{"room PUT", "PUT", "/goim/push/room?operation=1000&type=live&room=1000", "hi", 405, `{"code":-400,"message":"method PUT not allowed, use POST"}`},
		{"all", "POST", "/goim/push/all?operation=1000&speed=100", "hi", 200, `{"code":0,"message":"","data":{"comets":2}}`},
		{"all no speed", "POST", "/goim/push/all?operation=1000", "hi", 200, `{"code":0,"message":"","data":{"comets":2}}`},
		{"all bad speed", "POST", "/goim/push/all?operation=1000&speed=fast", "hi", 400, `{"code":-400,"message":"bad parameter speed: not an int32: \"fast\""}`},
		{"all negative speed", "POST", "/goim/push/all?operation=1000&speed=-1", "hi", 400, `{"code":-400,"message":"bad parameter speed: negative: \"-1\""}`},
		{"all no operation", "POST", "/goim/push/all", "hi", 400, `{"code":-400,"message":"bad parameter operation: missing"}`},
	}
}

func TestHTTPOnline(t *testing.T) {
	e := httpEnv(t)
	runHTTPCases(t, e.l.Handler(), httpOnlineCases())
}

// httpOnlineCases are the online requests to an httpEnv and their
// answers.
func httpOnlineCases() []httpCase {
	return []httpCase{
		{"top", "GET", "/goim/online/top?type=live&limit=2", "", 200, `{"code":0,"message":"","data":[{"room_id":"3000","count":300},{"room_id":"2000","count":200}]}`},
		{"top all", "GET", "/goim/online/top?type=live&limit=10", "", 200,
			`{"code":0,"message":"","data":[{"room_id":"3000","count":300},{"room_id":"2000","count":200},{"room_id":"1000","count":101}]}`},
		{"top unknown type", "GET", "/goim/online/top?type=chat&limit=10", "", 200, `{"code":0,"message":"","data":[]}`},
		{"top no type", "GET", "/goim/online/top?limit=10", "", 400, `{"code":-400,"message":"bad parameter type: missing"}`},
		{"top no limit", "GET", "/goim/online/top?type=live", "", 400, `{"code":-400,"message":"bad parameter limit: missing"}`},
		{"top bad limit", "GET", "/goim/online/top?type=live&limit=ten", "", 400, `{"code":-400,"message":"bad parameter limit: not a positive integer: \"ten\""}`},
		{"top zero limit", "GET", "/goim/online/top?type=live&limit=0", "", 400, `{"code":-400,"message":"bad parameter limit: not a positive integer: \"0\""}`},
		{"top POST", "POST", "/goim/online/top?type=live&limit=1", "", 405, `{"code":-400,"message":"method POST not allowed, use GET"}`},
		{"room", "GET", "/goim/online/room?type=live&rooms=1000&rooms=2000&rooms=3000", "", 200, `{"code":0,"message":"","data":{"1000":101,"2000":200,"3000":300}}`},
		{"room commas and unknown", "GET", "/goim/online/room?type=live&rooms=1000,404", "", 200, `{"code":0,"message":"","data":{"1000":101,"404":0}}`},
		{"room no rooms", "GET", "/goim/online/room?type=live", "", 400, `{"code":-400,"message":"bad parameter rooms: missing"}`},
		{"room no type", "GET", "/goim/online/room?rooms=1", "", 400, `{"code":-400,"message":"bad parameter type: missing"}`},
		{"total", "GET", "/goim/online/total", "", 200, `{"code":0,"message":"","data":{"conn_count":3,"ip_count":3}}`},
		{"total DELETE", "DELETE", "/goim/online/total", "", 405, `{"code":-400,"message":"method DELETE not allowed, use GET"}`},
		{"not found", "GET", "/goim/nope", "", 404, `{"code":-400,"message":"no such endpoint: /goim/nope"}`},
	}
}

func TestHTTPNodes(t *testing.T) {
	e := httpEnv(t)
	runHTTPCases(t, e.l.Handler(), httpNodesCases(e.clock.Now()))
	if status, _ := do(t, e.l.Handler(), "HEAD", "/goim/online/total", ""); status != 200 {
		t.Errorf("HEAD status %d", status)
	}
}

// httpNodesCases are the node requests to an httpEnv whose nodes last
// reported at seen, and their answers.
func httpNodesCases(seen time.Time) []httpCase {
	instances := `{"code":0,"message":"","data":[{
		"region":"sh","zone":"sh001","env":"dev","appid":"goim.comet","hostname":"test",
		"addrs":["rpc://192.168.1.30:3109"],"version":"","latest_timestamp":` + itoa(seen.UnixNano()) + `,
		"metadata":{"addrs":"47.89.10.97","conn_count":"1","ip_count":"1","offline":"false","weight":"10"}
	},{
		"region":"","zone":"","env":"","appid":"goim.comet","hostname":"c2",
		"addrs":["rpc://10.0.0.1:3109"],"version":"","latest_timestamp":` + itoa(seen.UnixNano()) + `,
		"metadata":{"addrs":"c2.addr","conn_count":"2","ip_count":"2","offline":"true","weight":"10"}
	}]}`
	weighted := func(nodes string) string {
		return `{"code":0,"message":"","data":{"domain":"conn.goim.io","tcp_port":3101,"ws_port":3102,"wss_port":3103,
			"heartbeat":30,"heartbeat_max":3,"nodes":` + nodes + `,
			"backoff":{"max_delay":300,"base_delay":3,"factor":1.8,"jitter":0.3}}}`
	}
	return []httpCase{
		{"weighted android", "GET", "/goim/nodes/weighted?platform=android", "", 200, weighted(`["47.89.10.97"]`)},
		{"weighted no platform", "GET", "/goim/nodes/weighted", "", 200, weighted(`["47.89.10.97"]`)},
		{"weighted web", "GET", "/goim/nodes/weighted?platform=web", "", 200, weighted(`["test.goim.io"]`)},
		{"weighted POST", "POST", "/goim/nodes/weighted", "", 405, `{"code":-400,"message":"method POST not allowed, use GET"}`},
		{"instances", "GET", "/nodes/instances", "", 200, instances},
		{"goim instances", "GET", "/goim/nodes/instances", "", 200, instances},
	}
}

func TestHTTPNodesWeightedEmpty(t *testing.T) {
	e := newTestEnv(t, nil)
	_, got := do(t, e.l.Handler(), "GET", "/goim/nodes/weighted?platform=web", "")
	want := jsonValue(t, `{"code":0,"message":"","data":{"domain":"conn.goim.io","tcp_port":3101,"ws_port":3102,"wss_port":3103,
		"heartbeat":30,"heartbeat_max":3,"nodes":["conn.goim.io"],
		"backoff":{"max_delay":300,"base_delay":3,"factor":1.8,"jitter":0.3}}}`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestHTTPPushNoJob(t *testing.T) {
	e := newTestEnv(t, nil)
	e.addComet(t, "c1", nil)
	e.connect(t, "c1", 1, `{"mid":1,"key":"k1"}`)
	want := `{"code":-500,"message":"no job node available"}`
	runHTTPCases(t, e.l.Handler(), []httpCase{
		{"keys", "POST", "/goim/push/keys?operation=1&keys=k1", "m", 200, want},
		{"mids", "POST", "/goim/push/mids?operation=1&mids=1", "m", 200, want},
		{"room", "POST", "/goim/push/room?operation=1&type=live&room=1", "m", 200, want},
		{"all", "POST", "/goim/push/all?operation=1", "m", 200, want},
		// Nothing to send: no job needed.
		{"keys offline", "POST", "/goim/push/keys?operation=1&keys=nope", "m", 200, `{"code":0,"message":"","data":{"conns":0,"comets":0}}`},
	})
}

func itoa(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestHTTPManyKeys pushes to DefaultMaxPushTargets keys, the most one
// request may name.
func TestHTTPManyKeys(t *testing.T) {
	e := httpEnv(t)
	var q strings.Builder
	q.WriteString("/goim/push/keys?operation=1")
	for i := range DefaultMaxPushTargets - 1 {
		q.WriteString("&keys=x")
		q.WriteString(itoa(int64(i)))
	}
	q.WriteString("&keys=k1")
	status, got := do(t, e.l.Handler(), "POST", q.String(), "m")
	if status != 200 || !cmp.Equal(got, jsonValue(t, `{"code":0,"message":"","data":{"conns":1,"comets":1}}`)) {
		t.Errorf("status %d, answer %v", status, got)
	}
}

func TestHTTPRecoversPanic(t *testing.T) {
	e := newTestEnv(t, nil)
	h := e.l.recoverer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	status, got := do(t, h, "GET", "/x", "")
	if status != 500 || !cmp.Equal(got, jsonValue(t, `{"code":-500,"message":"internal error"}`)) {
		t.Errorf("status %d, answer %v", status, got)
	}
}
