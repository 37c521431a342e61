package logic

import (
	"context"
	"errors"
	"testing"

	"github.com/goimx/goim/logic/logicrpc"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestStats runs HTTP pushes (accepted, bad, without a job), Go API
// pushes and RPC calls in order, and checks every counter after each
// step: a step's want adds what it should count to the expected Stats.
func TestStats(t *testing.T) {
	e := httpEnv(t) // 2 comets (c2 offline), 2 jobs, 3 rooms, k1 k2 k3 connected
	h := e.l.Handler()
	ctx := context.Background()
	post := func(target string, code int) func(t *testing.T) {
		return func(t *testing.T) {
			_, got := do(t, h, "POST", target, "m")
			if c := got.(map[string]any)["code"]; c != float64(code) {
				t.Errorf("POST %s: code %v, want %d", target, c, code)
			}
		}
	}
	jobsOffline := func(off bool) func(t *testing.T) {
		return func(t *testing.T) {
			for _, id := range []string{"j1", "j2"} {
				e.report(t, logicrpc.NodeInfo{ID: id, Kind: logicrpc.KindJob, RPCAddr: id + ":1", Offline: off}, nil)
			}
		}
	}
	rpcErr := func(call func() error) func(t *testing.T) {
		return func(t *testing.T) {
			if err := call(); err == nil {
				t.Error("call succeeded, want an error")
			}
		}
	}
	rpcOK := func(call func() error) func(t *testing.T) {
		return func(t *testing.T) {
			if err := call(); err != nil {
				t.Errorf("call: %v", err)
			}
		}
	}
	want := Stats{Sessions: 3, Comets: 2, Jobs: 2, Rooms: 3, Connects: 3}
	steps := []struct {
		name string
		do   func(t *testing.T)
		want func(s *Stats)
	}{
		{"start", func(*testing.T) {}, func(*Stats) {}},
		{"push keys", post("/goim/push/keys?operation=1&keys=k1&keys=k3", 0), func(s *Stats) { s.Pushes.Keys++ }},
		{"push keys offline", post("/goim/push/keys?operation=1&keys=nope", 0), func(s *Stats) { s.Pushes.Keys++ }},
		{"push mids", post("/goim/push/mids?operation=1&mids=1", 0), func(s *Stats) { s.Pushes.Mids++ }},
		{"push room", post("/goim/push/room?operation=1&type=live&room=1000", 0), func(s *Stats) { s.Pushes.Room++ }},
		{"push all", post("/goim/push/all?operation=1", 0), func(s *Stats) { s.Pushes.All++ }},
		{"bad operation", post("/goim/push/keys?operation=x&keys=k1", -400), func(s *Stats) { s.BadRequests++ }},
		{"no keys", post("/goim/push/keys?operation=1", -400), func(s *Stats) { s.BadRequests++ }},
		{"no room", post("/goim/push/room?operation=1&type=live", -400), func(s *Stats) { s.BadRequests++ }},
		{"wrong method", func(t *testing.T) { do(t, h, "GET", "/goim/push/all?operation=1", "") }, func(s *Stats) { s.BadRequests++ }},
		{"unknown path", func(t *testing.T) { do(t, h, "GET", "/nope", "") }, func(s *Stats) { s.BadRequests++ }},
		{"online top no limit", func(t *testing.T) { do(t, h, "GET", "/goim/online/top?type=live", "") }, func(s *Stats) { s.BadRequests++ }},
		{"jobs go offline", jobsOffline(true), func(s *Stats) { s.Jobs, s.JobsOffline = 0, 2 }},
		{"no job keys", post("/goim/push/keys?operation=1&keys=k1", -500), func(s *Stats) { s.PushFailures.Keys++ }},
		{"no job mids", post("/goim/push/mids?operation=1&mids=2", -500), func(s *Stats) { s.PushFailures.Mids++ }},
		{"no job room", post("/goim/push/room?operation=1&type=live&room=1", -500), func(s *Stats) { s.PushFailures.Room++ }},
		{"no job all", post("/goim/push/all?operation=1", -500), func(s *Stats) { s.PushFailures.All++ }},
		{"no job nothing to send", post("/goim/push/keys?operation=1&keys=nope", 0), func(s *Stats) { s.Pushes.Keys++ }},
		{"no job PushAll", rpcErr(func() error { _, err := e.l.PushAll(ctx, 1, 0, nil); return err }), func(s *Stats) { s.PushFailures.All++ }},
		{"jobs back", jobsOffline(false), func(s *Stats) { s.Jobs, s.JobsOffline = 2, 0 }},
		{"PushRoom", rpcOK(func() error { _, err := e.l.PushRoom(ctx, 1, "live://1", nil); return err }), func(s *Stats) { s.Pushes.Room++ }},
		{"PushMids", rpcOK(func() error { _, err := e.l.PushMids(ctx, 1, []int64{1}, nil); return err }), func(s *Stats) { s.Pushes.Mids++ }},
		{"connect", func(t *testing.T) { e.connect(t, "c1", 9, `{"mid":4,"key":"k4"}`) }, func(s *Stats) { s.Connects++; s.Sessions++ }},
		{"connect bad token", rpcErr(func() error {
			_, err := e.l.Connect(ctx, &logicrpc.ConnectReq{Server: "c1", ConnID: 10, Token: []byte("{")})
			return err
		}), func(s *Stats) { s.ConnectsRefused++ }},
		{"connect no server", rpcErr(func() error {
			_, err := e.l.Connect(ctx, &logicrpc.ConnectReq{ConnID: 10, Token: []byte(`{"key":"k5"}`)})
			return err
		}), func(s *Stats) { s.ConnectsRefused++ }},
		{"heartbeat", rpcOK(func() error {
			return e.l.Heartbeat(ctx, &logicrpc.HeartbeatReq{Mid: 1, Key: "k1", Server: "c1", ConnID: 1})
		}), func(s *Stats) { s.Heartbeats++ }},
		{"heartbeat no key", rpcErr(func() error {
			return e.l.Heartbeat(ctx, &logicrpc.HeartbeatReq{Server: "c1", ConnID: 1})
		}), func(*Stats) {}},
		{"disconnect", rpcOK(func() error {
			_, err := e.l.Disconnect(ctx, &logicrpc.DisconnectReq{Mid: 2, Key: "k3", Server: "c2", ConnID: 1})
			return err
		}), func(s *Stats) { s.Disconnects++; s.Sessions-- }},
		{"disconnect not owner", rpcOK(func() error {
			_, err := e.l.Disconnect(ctx, &logicrpc.DisconnectReq{Mid: 1, Key: "k1", Server: "c2", ConnID: 7})
			return err
		}), func(s *Stats) { s.Disconnects++ }},
		{"comet leaves its rooms", func(t *testing.T) { e.addComet(t, "c1", nil) }, func(s *Stats) { s.Rooms = 1 }},
	}
	for _, st := range steps {
		st.do(t)
		st.want(&want)
		if diff := cmp.Diff(want, e.l.Stats(), cmpopts.IgnoreFields(Stats{}, "JobLinks")); diff != "" {
			t.Fatalf("after %s: Stats (-want +got):\n%s", st.name, diff)
		}
	}
	// The pushes went to the jobs by method calls: their links are up.
	links := e.l.Stats().JobLinks
	if len(links) == 0 {
		t.Fatal("no JobLinks after pushes")
	}
	for _, l := range links {
		if l.Addr != l.ID+":1" || !l.Connected {
			t.Errorf("JobLink %+v, want address %s:1, connected", l, l.ID)
		}
	}
	if got := want.Pushes.Total(); got != 8 {
		t.Errorf("Pushes.Total() = %d, want 8", got)
	}
}

// noLenStore is a session store that cannot count its sessions.
type noLenStore struct{ SessionStore }

func TestStatsSessionsUnknown(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.Sessions = noLenStore{NewMemoryStore(MemoryStoreConfig{})} })
	e.addComet(t, "c1", nil)
	e.connect(t, "c1", 1, `{"key":"k1"}`)
	if got := e.l.Stats(); got.Sessions != -1 || got.Connects != 1 || got.Comets != 1 {
		t.Errorf("Stats = %+v, want Sessions -1, Connects 1, Comets 1", got)
	}
}

// TestStatsPushFailureKinds checks that a job refusing a push counts as a
// failure of the push's kind, not only a missing job.
func TestStatsPushFailureKinds(t *testing.T) {
	e := newTestEnv(t, nil)
	e.jobs.failWith(errors.New("job down"))
	e.addJob(t, "j1")
	e.addComet(t, "c1", nil)
	e.connect(t, "c1", 1, `{"mid":1,"key":"k1"}`)
	ctx := context.Background()
	if _, err := e.l.PushKeys(ctx, 1, []string{"k1"}, nil); err == nil {
		t.Error("PushKeys succeeded, want the job's error")
	}
	if _, err := e.l.PushRoom(ctx, 1, "live://1", nil); err == nil {
		t.Error("PushRoom succeeded, want the job's error")
	}
	got := e.l.Stats()
	want := PushCounts{Keys: 1, Room: 1}
	if got.PushFailures != want || got.Pushes != (PushCounts{}) {
		t.Errorf("PushFailures %+v, Pushes %+v; want %+v and none", got.PushFailures, got.Pushes, want)
	}
}
