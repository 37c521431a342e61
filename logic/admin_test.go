package logic

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/logic/logicrpc"
)

// fakeDrainer records drains and answers rep or err.
type fakeDrainer struct {
	mu     sync.Mutex
	nodes  []string
	reqs   []cometrpc.DrainReq
	closed int
	rep    cometrpc.DrainReply
	err    error
}

func (f *fakeDrainer) dial(n logicrpc.NodeInfo) (cometrpc.Drainer, func()) {
	f.mu.Lock()
	f.nodes = append(f.nodes, n.ID+"@"+n.RPCAddr)
	f.mu.Unlock()
	return f, func() { f.mu.Lock(); f.closed++; f.mu.Unlock() }
}

func (f *fakeDrainer) Drain(_ context.Context, req *cometrpc.DrainReq) (cometrpc.DrainReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, *req)
	return f.rep, f.err
}

// TestDrainComet: the admin endpoint needs the API key, finds the live
// comet, passes the duration and answers what the comet said.
func TestDrainComet(t *testing.T) {
	keys := writeFile(t, "keys", "admin-key\n")
	f := &fakeDrainer{rep: cometrpc.DrainReply{Conns: 42, Duration: 30 * time.Second}}
	e := newTestEnv(t, func(c *Config) { c.APIKeysFile = keys; c.DialComet = f.dial })
	e.addComet(t, "c1", nil)
	h := e.l.Handler()
	for _, tt := range []struct {
		name, method, target, auth string
		status                     int
		body                       string
	}{
		{"no key", "POST", "/goim/admin/comets/c1/drain", "", 401, ""},
		{"get", "GET", "/goim/admin/comets/c1/drain", "Bearer admin-key", 405, ""},
		{"unknown comet", "POST", "/goim/admin/comets/nope/drain", "Bearer admin-key", 404, `no live comet \"nope\"`},
		{"bad duration", "POST", "/goim/admin/comets/c1/drain?duration=soon", "Bearer admin-key", 400, "duration"},
		{"drain", "POST", "/goim/admin/comets/c1/drain?duration=30s", "Bearer admin-key", 200,
			`{"code":0,"message":"","data":{"comet":"c1","conns":42,"duration_seconds":30,"already":false}}`},
	} {
		rec := authDo(h, tt.method, tt.target, tt.auth)
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) {
			t.Errorf("%s: %d %s, want %d with %s", tt.name, rec.Code, rec.Body, tt.status, tt.body)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) != 1 || f.reqs[0].Duration != 30*time.Second || f.closed != 1 || f.nodes[0] != "c1@10.0.0.1:3109" {
		t.Errorf("drains %+v to %v, %d closed", f.reqs, f.nodes, f.closed)
	}
}

// TestDrainCometFails: a comet that cannot be reached is -500.
func TestDrainCometFails(t *testing.T) {
	f := &fakeDrainer{err: errors.New("connection refused")}
	e := newTestEnv(t, func(c *Config) { c.DialComet = f.dial })
	e.addComet(t, "c1", nil)
	rec := authDo(e.l.Handler(), http.MethodPost, "/goim/admin/comets/c1/drain", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"code":-500`) || !strings.Contains(rec.Body.String(), "connection refused") {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}
