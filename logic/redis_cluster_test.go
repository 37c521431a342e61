package logic

import (
	"context"
	"fmt"
	"github.com/goimx/goim/internal/testwait"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// TestRedisClusterHTTP runs the HTTP API tables against two logic nodes
// on one Redis database: the nodes, room counts and sessions all reached
// node a, and node b answers every request as a does.
func TestRedisClusterHTTP(t *testing.T) {
	url := redisForTest(t)
	withRedis := func(c *Config) { c.Redis = url }
	a := httpEnvWith(t, withRedis)
	b := newTestEnv(t, withRedis)
	testwait.For(t, 5*time.Second, "node b to load the registry from Redis", func() bool {
		return len(b.l.reg.nodes("", b.clock.Now())) == 4
	})
	for _, n := range []struct {
		name string
		e    *testEnv
	}{{"a", a}, {"b", b}} {
		t.Run(n.name+"/push", func(t *testing.T) { runHTTPCases(t, n.e.l.Handler(), httpPushCases()) })
		t.Run(n.name+"/online", func(t *testing.T) { runHTTPCases(t, n.e.l.Handler(), httpOnlineCases()) })
		t.Run(n.name+"/nodes", func(t *testing.T) { runHTTPCases(t, n.e.l.Handler(), httpNodesCases(n.e.clock.Now())) })
	}
	// b's pushes went to b's own clients of the jobs, routed as a's.
	keys := func(e *testEnv) []string {
		var out []string
		for id, msgs := range e.jobs.all() {
			for _, m := range msgs {
				if m.Type == jobrpc.PushKeys {
					out = append(out, id+" "+m.Server+" "+strings.Join(m.Keys.Strings(), ","))
				}
			}
		}
		slices.Sort(out)
		return out
	}
	if diff := cmp.Diff(keys(a), keys(b)); diff != "" || len(keys(b)) == 0 {
		t.Errorf("key pushes of a and b differ (-a +b):\n%s", diff)
	}
	if st := b.l.Stats(); st.StoreOps == 0 || st.StoreErrors != 0 || st.Sessions != -1 {
		t.Errorf("b's stats: ops %d, errors %d, sessions %d", st.StoreOps, st.StoreErrors, st.Sessions)
	}
}

// TestRedisClusterReports checks that a report to one node updates what
// the other answers at its next refresh, and that a session moves between
// nodes: put through a, renewed and deleted through b.
func TestRedisClusterReports(t *testing.T) {
	url := redisForTest(t)
	withRedis := func(c *Config) { c.Redis = url; c.RegistryRefresh = 20 * time.Millisecond }
	a := newTestEnv(t, withRedis)
	b := newTestEnv(t, withRedis)
	ctx := context.Background()
	a.addJob(t, "j1")
	c1 := cometInfo("c1")
	c1.ConnCount, c1.IPCount = 5, 4
	repA := a.report(t, c1, map[string]int32{"live://1": 3, "live://2": 2})
	// c2 reports to b: its reply counts include c1's rooms, reported to a.
	rep := b.report(t, cometInfo("c2"), map[string]int32{"live://1": 4})
	if diff := cmp.Diff(map[string]int32{"live://1": 7}, rep.RoomCount); diff != "" || rep.Known {
		t.Errorf("c2's report reply (known %v) counts (-want +got):\n%s", rep.Known, diff)
	}
	// Both answer the store's epoch: a comet moving between them does not
	// take it for a restart.
	if rep.Epoch != repA.Epoch || rep.Epoch == 0 {
		t.Errorf("epochs: a answered %d, b %d; a's process %d, b's %d", repA.Epoch, rep.Epoch, a.l.Epoch(), b.l.Epoch())
	}
	same := func() bool {
		now := a.clock.Now()
		return cmp.Equal(a.l.reg.onlineRooms("live", []string{"1", "2"}, now), b.l.reg.onlineRooms("live", []string{"1", "2"}, now)) &&
			cmp.Equal(a.l.reg.nodes("", now), b.l.reg.nodes("", now)) &&
			a.l.reg.onlineTotal(now) == b.l.reg.onlineTotal(now)
	}
	testwait.For(t, 5*time.Second, "a and b to agree", same)
	if got := b.l.reg.onlineRooms("live", []string{"1", "2"}, b.clock.Now()); !cmp.Equal(got, map[string]int32{"1": 7, "2": 2}) {
		t.Errorf("b's rooms: %v", got)
	}
	if got := b.l.reg.onlineTotal(b.clock.Now()); got != (OnlineTotal{5, 4}) {
		t.Errorf("b's total: %+v", got)
	}
	// A second report of c1 to b is known, and replaces c1's rooms.
	if rep := b.report(t, c1, map[string]int32{"live://2": 1}); !rep.Known {
		t.Error("c1 reported to a, then to b: b says it was unknown")
	}
	testwait.For(t, 5*time.Second, "a to see c1's new rooms", func() bool {
		return cmp.Equal(a.l.reg.onlineRooms("live", []string{"1", "2"}, a.clock.Now()), map[string]int32{"1": 4, "2": 1})
	})

	// A session put through a is pushed through b, and only its owner's
	// disconnect through b removes it.
	a.connect(t, "c1", 7, `{"mid":9,"key":"k9"}`)
	res, err := b.l.PushMids(ctx, 1, []int64{9}, []byte("m"))
	if err != nil || res.Conns != 1 {
		t.Fatalf("push through b: %+v, %v", res, err)
	}
	if msgs := b.jobs.get("j1").received(); len(msgs) != 1 || msgs[0].Server != "c1" || !slices.Equal(msgs[0].Keys.Strings(), []string{"k9"}) {
		t.Errorf("b's job got %+v", msgs)
	}
	if rep, err := b.l.Disconnect(ctx, &logicrpc.DisconnectReq{Mid: 9, Key: "k9", Server: "c1", ConnID: 6}); err != nil || rep.Has {
		t.Errorf("disconnect of another connection: %+v, %v", rep, err)
	}
	if rep, err := b.l.Disconnect(ctx, &logicrpc.DisconnectReq{Mid: 9, Key: "k9", Server: "c1", ConnID: 7}); err != nil || !rep.Has {
		t.Errorf("disconnect of the owner: %+v, %v", rep, err)
	}
	if res, err := a.l.PushKeys(ctx, 1, []string{"k9"}, []byte("m")); err != nil || res.Conns != 0 {
		t.Errorf("push through a after the disconnect: %+v, %v", res, err)
	}

	// c2 goes silent: both nodes drop it at the same time.
	a.clock.Advance(DefaultNodeTTL - time.Second)
	b.clock.Advance(DefaultNodeTTL - time.Second)
	b.report(t, c1, nil)
	a.addJob(t, "j1")
	a.clock.Advance(2 * time.Second)
	b.clock.Advance(2 * time.Second)
	testwait.For(t, 5*time.Second, "a and b to drop c2", func() bool {
		now := a.clock.Now()
		return same() && len(a.l.reg.nodes(logicrpc.KindComet, now)) == 1
	})
}

// TestRedisKeyLayout checks the keys operators' tools read: goim's
// key_<key>, mid_<mid> and ol_<comet>, and the registry's keys, all with
// TTLs where docs/operations.md says so.
func TestRedisKeyLayout(t *testing.T) {
	url := redisForTest(t)
	e := newTestEnv(t, func(c *Config) { c.Redis = url })
	e.addComet(t, "c1", map[string]int32{"live://1": 3})
	e.addJob(t, "j1")
	e.connect(t, "c1", 5, `{"mid":42,"key":"kk"}`)
	opt, err := redis.ParseURL(url)
	must(t, err)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	get := func(k string) string { v, _ := rdb.Get(ctx, k).Result(); return v }
	hash := func(k string) map[string]string { v, _ := rdb.HGetAll(ctx, k).Result(); return v }
	if got := get("key_kk"); got != "c1" {
		t.Errorf("key_kk = %q", got)
	}
	if got := get("own_kk"); got != "5 42" {
		t.Errorf("own_kk = %q", got)
	}
	if got := hash("mid_42"); !cmp.Equal(got, map[string]string{"kk": "c1"}) {
		t.Errorf("mid_42 = %v", got)
	}
	if got := hash("ol_c1"); !cmp.Equal(got, map[string]string{"live://1": "3"}) {
		t.Errorf("ol_c1 = %v", got)
	}
	for _, k := range []string{"key_kk", "own_kk", "mid_42"} {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= DefaultSessionTTL-time.Minute || ttl > DefaultSessionTTL {
			t.Errorf("TTL of %s = %v, want about %v", k, ttl, DefaultSessionTTL)
		}
	}
	if ttl := rdb.PTTL(ctx, "ol_c1").Val(); ttl <= DefaultNodeTTL || ttl > 2*DefaultNodeTTL {
		t.Errorf("TTL of ol_c1 = %v, want about %v", ttl, 2*DefaultNodeTTL)
	}
	members := rdb.ZRange(ctx, "node_seen", 0, -1).Val()
	if !cmp.Equal(members, []string{"comet:c1", "job:j1"}) && !cmp.Equal(members, []string{"job:j1", "comet:c1"}) {
		t.Errorf("node_seen members %v", members)
	}
	info := hash("node_info")
	if rec := info["comet:c1"]; !strings.HasPrefix(rec, itoa(e.clock.Now().UnixNano())+` {"id":"c1","kind":"comet"`) {
		t.Errorf("node_info comet:c1 = %q", rec)
	}
	do(t, e.l.Handler(), "GET", "/goim/nodes/weighted", "")
	if got := hash("node_picks"); !cmp.Equal(got, map[string]string{"comet:c1": "1"}) {
		t.Errorf("node_picks after one /nodes/weighted = %v", got)
	}
	e.addComet(t, "c1", nil) // a report resets the picks and the rooms
	if got := hash("node_picks"); len(got) != 0 {
		t.Errorf("node_picks after a report = %v", got)
	}
	if n := rdb.Exists(ctx, "ol_c1").Val(); n != 0 {
		t.Errorf("ol_c1 of a comet reporting no rooms exists")
	}
}

// TestRedisSessionsBatch restores more sessions than one batch holds, as
// a comet does after logic lost them, with Redis's script cache emptied
// first (as after a Redis restart): a key meanwhile owned by a newer
// connection keeps it.
func TestRedisSessionsBatch(t *testing.T) {
	url := redisForTest(t)
	e := newTestEnv(t, func(c *Config) { c.Redis = url })
	e.addJob(t, "j1")
	e.addComet(t, "c1", nil)
	e.addComet(t, "c2", nil)
	ctx := context.Background()
	e.connect(t, "c2", 99, `{"mid":1,"key":"k7"}`)
	req := &logicrpc.SessionsReq{Server: "c1"}
	var keys []string
	for i := range 2*renewBatch + 3 {
		k := fmt.Sprint("k", i)
		req.Sessions = append(req.Sessions, logicrpc.Session{Mid: int64(i % 10), Key: k, ConnID: uint64(i)})
		keys = append(keys, k)
	}
	opt, err := redis.ParseURL(url)
	must(t, err)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	must(t, rdb.ScriptFlush(ctx).Err())
	must(t, e.l.Sessions(ctx, req))
	routes, err := e.l.sessions.AppendByKeys(ctx, nil, keys)
	must(t, err)
	if len(routes) != len(keys) {
		t.Fatalf("%d routes for %d keys", len(routes), len(keys))
	}
	for _, r := range routes {
		want := "c1"
		if r.Key == "k7" {
			want = "c2"
		}
		if r.Server != want {
			t.Errorf("route %v, want server %s", r, want)
		}
	}
	res, err := e.l.PushMids(ctx, 1, []int64{3}, []byte("m"))
	if want := (2*renewBatch+3)/10 + 1; err != nil || res.Conns != want {
		t.Errorf("push to mid 3: %+v, %v; want %d conns", res, err, want)
	}
}
