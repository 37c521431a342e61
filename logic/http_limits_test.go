package logic

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// repeatParam returns "&name=prefix0&name=prefix1..." n times.
func repeatParam(name, prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "&%s=%s%d", name, prefix, i)
	}
	return b.String()
}

// TestHTTPLimits: requests over a limit are -400 naming the parameter,
// counted in OverLimit; requests at the limit pass.
func TestHTTPLimits(t *testing.T) {
	e := httpEnv(t)
	e.l.cfg.MaxPushTargets = 3 // the handler reads the limit per request
	room256 := strings.Repeat("r", maxRoomLen-len("live://"))
	runHTTPCases(t, e.l.Handler(), []httpCase{
		{"keys at limit", "POST", "/goim/push/keys?operation=1" + repeatParam("keys", "k", 3), "hi", 200, `{"code":0,"message":"","data":{"conns":2,"comets":1}}`},
		{"keys over limit", "POST", "/goim/push/keys?operation=1" + repeatParam("keys", "k", 4), "hi", 400, `{"code":-400,"message":"bad parameter keys: 4 values, limit 3"}`},
		{"mids over limit", "POST", "/goim/push/mids?operation=1&mids=1,2,3,4", "hi", 400, `{"code":-400,"message":"bad parameter mids: 4 values, limit 3"}`},
		{"rooms over limit", "GET", "/goim/online/room?type=live&rooms=1,2,3,4", "", 400, `{"code":-400,"message":"bad parameter rooms: 4 values, limit 3"}`},
		{"room at length limit", "POST", "/goim/push/room?operation=1&type=live&room=" + room256, "hi", 200, `{"code":0,"message":"","data":{"comets":2}}`},
		{"room over length limit", "POST", "/goim/push/room?operation=1&type=live&room=" + room256 + "x", "hi", 400, `{"code":-400,"message":"bad parameter room: room id of 257 bytes, limit 256"}`},
		{"online room over length limit", "GET", "/goim/online/room?type=live&rooms=1," + room256 + "x", "", 400, `{"code":-400,"message":"bad parameter rooms: room id of 257 bytes, limit 256"}`},
		{"body over limit", "POST", "/goim/push/all?operation=1", strings.Repeat("x", DefaultMaxMessageSize+1), 400, `{"code":-400,"message":"message too large: 4097 bytes, limit 4096"}`},
	})
	if got := e.l.Stats().OverLimit; got != 6 {
		t.Errorf("OverLimit = %d, want 6", got)
	}
}

// TestHTTPDefaultTargetLimit: the default allows 10,000 mids and refuses
// one more.
func TestHTTPDefaultTargetLimit(t *testing.T) {
	e := httpEnv(t)
	mids := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprint(i + 100)
		}
		return strings.Join(s, ",")
	}
	runHTTPCases(t, e.l.Handler(), []httpCase{
		{"at default", "POST", "/goim/push/mids?operation=1&mids=" + mids(DefaultMaxPushTargets), "hi", 200, `{"code":0,"message":"","data":{"conns":0,"comets":0}}`},
		{"over default", "POST", "/goim/push/mids?operation=1&mids=" + mids(DefaultMaxPushTargets+1), "hi", 400, `{"code":-400,"message":"bad parameter mids: 10001 values, limit 10000"}`},
	})
}

// TestHTTPMaxHeaderBytes: the API server, built-in or net/http's,
// refuses request heads over Config.MaxHeaderBytes with 431.
func TestHTTPMaxHeaderBytes(t *testing.T) {
	for _, std := range []bool{false, true} {
		t.Run(fmt.Sprint("std=", std), func(t *testing.T) { testHTTPMaxHeaderBytes(t, std) })
	}
}

func testHTTPMaxHeaderBytes(t *testing.T, std bool) {
	l, err := New(Config{MaxHeaderBytes: 4096, StdHTTP: std}, discardLogger())
	must(t, err)
	ln := listen(t)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); checkClosed(t, "ServeAPI", l.ServeAPI(ln)) }()
	t.Cleanup(func() { l.Close(); wg.Wait(); http.DefaultClient.CloseIdleConnections() })
	base := "http://" + ln.Addr().String() + "/goim/online/total"
	for _, tt := range []struct {
		size   int
		status int
	}{{100, 200}, {16 << 10, http.StatusRequestHeaderFieldsTooLarge}} {
		req, _ := http.NewRequest("GET", base, nil)
		req.Header.Set("X-Pad", strings.Repeat("p", tt.size))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tt.status {
			t.Errorf("header of %d bytes: status %d, want %d", tt.size, res.StatusCode, tt.status)
		}
	}
}
