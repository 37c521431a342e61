//go:build !race

package logic

import (
	"context"
	"net/http"
	"testing"
)

// TestZeroAllocs pins the per-push paths that must not allocate.
func TestZeroAllocs(t *testing.T) {
	l := benchEnv(t, 1000)
	ctx := context.Background()
	keys := []string{"k1", "k2", "nope"}
	mids := []int64{1, 2, 99999}
	routes := make([]Route, 0, 8)
	var p params
	out := make([]byte, 0, 128)
	tests := []struct {
		name string
		fn   func()
	}{
		{"AppendByKeys", func() { routes, _ = l.sessions.AppendByKeys(ctx, routes[:0], keys) }},
		{"AppendByMids", func() { routes, _ = l.sessions.AppendByMids(ctx, routes[:0], mids) }},
		{"pickJob", func() { _, _ = l.reg.pickJob("live://1", l.cfg.Now()) }},
		{"parseParams", func() { p.reset(); _ = parseParams("operation=1&keys=a&keys=b&mids=1,2", &p) }},
		{"appendPushAnswer", func() { out = appendPushAnswer(out[:0], PushResult{Conns: 12, Comets: 3}, true) }},
		{"countPush", func() { l.stats.countPush(pushKindKeys, nil); l.stats.countPush(pushKindAll, ErrNoJob) }},
	}
	for _, tt := range tests {
		tt.fn() // warm up scratch capacity
		if n := testing.AllocsPerRun(100, tt.fn); n != 0 {
			t.Errorf("%s: %v allocs, want 0", tt.name, n)
		}
	}
}

// TestPushKeysAllocs pins the whole HTTP push handler (parameters, body,
// session lookup, push timeout, answer) at zero allocations: the push
// timeout's context is shared (pushDeadlines) and so is the Content-Type
// value.
func TestPushKeysAllocs(t *testing.T) {
	l := benchEnv(t, 1000)
	h := l.Handler()
	p := newPushRequest("/goim/push/keys?operation=1000&keys=k1&keys=k2&keys=k3", make([]byte, 64))
	w := &discardWriter{h: make(http.Header)}
	run := func() {
		p.reset()
		h.ServeHTTP(w, p.req)
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("push handler: %v allocs, want 0", n)
	}
	if w.status != http.StatusOK {
		t.Errorf("status %d, want 200", w.status)
	}
}
