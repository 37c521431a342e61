package logic

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newTestStore(clock *fakeClock) *MemoryStore {
	return NewMemoryStore(MemoryStoreConfig{TTL: time.Minute, Shards: 4, Now: clock.Now})
}

func byKeys(t *testing.T, s SessionStore, keys ...string) []Route {
	t.Helper()
	rs, err := s.AppendByKeys(context.Background(), nil, keys)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func byMids(t *testing.T, s SessionStore, mids ...int64) []Route {
	t.Helper()
	rs, err := s.AppendByMids(context.Background(), nil, mids)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(rs, compareRoutes)
	return rs
}

// storeCase is one SessionStore under the contract tests, with the means
// to let time pass for it.
type storeCase struct {
	name    string
	s       SessionStore
	ttl     time.Duration
	advance func(time.Duration) // lets d pass for the store's clock
	mem     *MemoryStore        // nil but for the memory store
}

// forEachStore runs test against a fresh MemoryStore (fake clock, TTL one
// minute) and a fresh Redis store (real clock, TTL 3 s; skipped
// without Redis outside CI).
func forEachStore(t *testing.T, test func(t *testing.T, c *storeCase)) {
	t.Run("memory", func(t *testing.T) {
		clock := newFakeClock()
		m := newTestStore(clock)
		test(t, &storeCase{name: "memory", s: m, ttl: time.Minute, advance: clock.Advance, mem: m})
	})
	t.Run("redis", func(t *testing.T) {
		c, err := dialRedis(redisForTest(t), new(redisCounts))
		must(t, err)
		s := newRedisStore(c, 3*time.Second)
		t.Cleanup(func() { s.Close() })
		test(t, &storeCase{name: "redis", s: s, ttl: 3 * time.Second, advance: time.Sleep})
	})
}

func TestSessionStoreLookups(t *testing.T) { forEachStore(t, testSessionStoreLookups) }

func testSessionStoreLookups(t *testing.T, c *storeCase) {
	ctx := context.Background()
	s := c.s
	for _, ss := range []Session{
		{Mid: 1, Key: "a", Server: "c1", ConnID: 1},
		{Mid: 1, Key: "b", Server: "c2", ConnID: 2},
		{Mid: 2, Key: "c", Server: "c1", ConnID: 3},
		{Mid: 0, Key: "anon", Server: "c2", ConnID: 4},
	} {
		if err := s.Put(ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		got  []Route
		want []Route
	}{
		{"keys", byKeys(t, s, "a", "x", "anon"), []Route{{"a", "c1"}, {"anon", "c2"}}},
		{"keys none", byKeys(t, s, "x", "y"), nil},
		{"mid 1", byMids(t, s, 1), []Route{{"a", "c1"}, {"b", "c2"}}},
		{"mids 1 2 3", byMids(t, s, 1, 2, 3), []Route{{"a", "c1"}, {"c", "c1"}, {"b", "c2"}}},
		{"mid 0 not indexed", byMids(t, s, 0), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
		})
	}
	if c.mem != nil {
		if n := c.mem.Len(); n != 4 {
			t.Errorf("Len = %d, want 4", n)
		}
	}
}

// TestSessionStoreReconnect is goim's lost-mapping bug: the replaced
// connection's Disconnect arrives after the new Connect with the same key.
func TestSessionStoreReconnect(t *testing.T) { forEachStore(t, testSessionStoreReconnect) }

func testSessionStoreReconnect(t *testing.T, c *storeCase) {
	ctx := context.Background()
	tests := []struct {
		name string
		old  Session
		new  Session
	}{
		{"same comet", Session{Mid: 7, Key: "k", Server: "c1", ConnID: 1}, Session{Mid: 7, Key: "k", Server: "c1", ConnID: 2}},
		{"other comet", Session{Mid: 7, Key: "k", Server: "c1", ConnID: 1}, Session{Mid: 7, Key: "k", Server: "c2", ConnID: 1}},
		{"other mid", Session{Mid: 7, Key: "k", Server: "c1", ConnID: 1}, Session{Mid: 8, Key: "k", Server: "c1", ConnID: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := c.s
			must(t, s.Put(ctx, tt.old))
			must(t, s.Put(ctx, tt.new))
			removed, err := s.Delete(ctx, tt.old)
			must(t, err)
			if removed {
				t.Error("Delete of the replaced connection removed the mapping")
			}
			want := []Route{{"k", tt.new.Server}}
			if diff := cmp.Diff(want, byKeys(t, s, "k")); diff != "" {
				t.Errorf("by key (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, byMids(t, s, tt.new.Mid)); diff != "" {
				t.Errorf("by mid (-want +got):\n%s", diff)
			}
			if tt.old.Mid != tt.new.Mid {
				if got := byMids(t, s, tt.old.Mid); len(got) != 0 {
					t.Errorf("old mid still has %v", got)
				}
			}
			removed, err = s.Delete(ctx, tt.new)
			must(t, err)
			if !removed || len(byKeys(t, s, "k")) != 0 || len(byMids(t, s, tt.new.Mid)) != 0 {
				t.Errorf("Delete of the owner: removed %v, left %v", removed, byKeys(t, s, "k"))
			}
		})
	}
}

func TestSessionStoreExpiry(t *testing.T) { forEachStore(t, testSessionStoreExpiry) }

func testSessionStoreExpiry(t *testing.T, c *storeCase) {
	ctx := context.Background()
	s := c.s
	a := Session{Mid: 1, Key: "a", Server: "c1", ConnID: 1}
	b := Session{Mid: 1, Key: "b", Server: "c1", ConnID: 2}
	must(t, s.Put(ctx, a))
	must(t, s.Put(ctx, b))
	c.advance(c.ttl * 2 / 3)
	live, err := s.Renew(ctx, a)
	must(t, err)
	if !live {
		t.Error("Renew of a live session reported it absent")
	}
	c.advance(c.ttl / 2) // b is 7/6 TTL old, a renewed 1/2 TTL ago
	if diff := cmp.Diff([]Route{{"a", "c1"}}, byKeys(t, s, "a", "b")); diff != "" {
		t.Errorf("after expiry, by keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Route{{"a", "c1"}}, byMids(t, s, 1)); diff != "" {
		t.Errorf("after expiry, by mid (-want +got):\n%s", diff)
	}
	if c.mem != nil {
		if n := c.mem.Sweep(); n != 1 {
			t.Errorf("Sweep removed %d, want 1", n)
		}
		if n := c.mem.Len(); n != 1 {
			t.Errorf("Len after sweep = %d, want 1", n)
		}
	}
	// A heartbeat restores an expired (or lost) session.
	live, err = s.Renew(ctx, b)
	must(t, err)
	if live {
		t.Error("Renew of an expired session reported it live")
	}
	if diff := cmp.Diff([]Route{{"a", "c1"}, {"b", "c1"}}, byMids(t, s, 1)); diff != "" {
		t.Errorf("after restore, by mid (-want +got):\n%s", diff)
	}
}

func TestSessionStoreRenewKeepsNewerOwner(t *testing.T) {
	forEachStore(t, testSessionStoreRenewKeepsNewerOwner)
}

func testSessionStoreRenewKeepsNewerOwner(t *testing.T, c *storeCase) {
	ctx := context.Background()
	s := c.s
	must(t, s.Put(ctx, Session{Mid: 1, Key: "k", Server: "c2", ConnID: 9}))
	if _, err := s.Renew(ctx, Session{Mid: 1, Key: "k", Server: "c1", ConnID: 1}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Route{{"k", "c2"}}, byKeys(t, s, "k")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestSessionStoreConcurrent races connects, heartbeats, disconnects and
// look-ups on overlapping keys; run it with -race.
func TestSessionStoreConcurrent(t *testing.T) { forEachStore(t, testSessionStoreConcurrent) }

func testSessionStoreConcurrent(t *testing.T, c *storeCase) {
	ctx := context.Background()
	s := c.s
	rounds := 500
	if c.mem == nil {
		rounds = 100 // a round trip per operation
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				ss := Session{Mid: int64(i % 7), Key: fmt.Sprint("k", i%50), Server: fmt.Sprint("c", w), ConnID: uint64(i)}
				_ = s.Put(ctx, ss)
				_, _ = s.Renew(ctx, ss)
				_, _ = s.AppendByMids(ctx, nil, []int64{int64(i % 7)})
				_, _ = s.Delete(ctx, ss)
			}
		}()
	}
	wg.Wait()
	// Whatever is left must be consistent: every mid route resolves to a key route.
	for mid := range int64(7) {
		for _, r := range byMids(t, s, mid) {
			if got := byKeys(t, s, r.Key); len(got) != 1 || got[0] != r {
				t.Errorf("mid %d route %v, key route %v", mid, r, got)
			}
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
