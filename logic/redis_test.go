package logic

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The tests that need Redis use the server at testRedisAddr, database
// testRedisDB, which they empty before and after each test: that
// database is reserved for these tests. A lock key in it makes test
// processes running at once (several checkouts on one machine) take
// turns.
const (
	testRedisAddr = "127.0.0.1:6379"
	testRedisDB   = 12
	testRedisLock = "goimx_logic_test_lock"
	testRedisURL  = "redis://127.0.0.1:6379/12"
)

// redisForTest returns the URL of the test database, emptied but for the
// lock, which the test holds until its cleanup empties the database
// again. Without Redis it skips the test, or fails it when CI=true.
func redisForTest(t testing.TB) string {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: testRedisAddr, DB: testRedisDB, DisableIdentity: true, MaxRetries: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Redis at %s (CI=true requires one): %v", testRedisAddr, err)
		}
		t.Skipf("no Redis at %s (%v): start redis-server (.ci/run does), or set CI=true to make this a failure", testRedisAddr, err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ok, err := rdb.SetNX(context.Background(), testRedisLock, token, 2*time.Minute).Result()
		if err != nil {
			rdb.Close()
			t.Fatalf("take the test lock in redis db %d: %v", testRedisDB, err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			rdb.Close()
			t.Fatalf("redis db %d stayed locked by another test process for 2 minutes", testRedisDB)
		}
		time.Sleep(20 * time.Millisecond)
	}
	emptyTestDB(t, rdb)
	t.Cleanup(func() {
		emptyTestDB(t, rdb)
		if err := releaseScript.Run(context.Background(), rdb, []string{testRedisLock}, token).Err(); err != nil {
			t.Errorf("release the test lock: %v", err)
		}
		rdb.Close()
	})
	return testRedisURL
}

// releaseScript deletes the lock KEYS[1] if it still holds ARGV[1].
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// emptyTestDB deletes every key of the test database but the lock.
func emptyTestDB(t testing.TB, rdb *redis.Client) {
	t.Helper()
	ctx := context.Background()
	it := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for it.Next(ctx) {
		if k := it.Val(); k != testRedisLock {
			if err := rdb.Del(ctx, k).Err(); err != nil {
				t.Fatalf("empty test db: %v", err)
			}
		}
	}
	if err := it.Err(); err != nil {
		t.Fatalf("empty test db: %v", err)
	}
}
