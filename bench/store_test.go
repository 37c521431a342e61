package bench

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/logic"
	"github.com/redis/go-redis/v9"
)

// The Redis of BenchmarkStoreKeys: database 14 (the logic tests use 12,
// the e2e tests 13), emptied before and after.
const (
	benchRedisAddr = "127.0.0.1:6379"
	benchRedisDB   = 14
)

// benchRedis empties the benchmark's Redis database now and at the end,
// and returns its URL. Without a Redis it skips, unless CI=true, when it
// fails.
func benchRedis(b *testing.B) string {
	b.Helper()
	rc := redis.NewClient(&redis.Options{Addr: benchRedisAddr, DB: benchRedisDB})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rc.Ping(ctx).Err(); err != nil {
		rc.Close()
		if os.Getenv("CI") == "true" {
			b.Fatalf("no Redis at %s (CI=true requires one): %v", benchRedisAddr, err)
		}
		b.Skipf("no Redis at %s (%v): start redis-server, or set CI=true to make this a failure", benchRedisAddr, err)
	}
	if err := rc.FlushDB(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := rc.FlushDB(ctx).Err(); err != nil {
			b.Errorf("empty Redis db %d: %v", benchRedisDB, err)
		}
		rc.Close()
	})
	return fmt.Sprintf("redis://%s/%d", benchRedisAddr, benchRedisDB)
}

// BenchmarkStoreKeys measures push/keys with logic's memory store and
// with its Redis store, one after the other in the same run, as
// BenchmarkHTTPPush does (50 callers, each push reaching one of 1,000
// connections, over the RPC links). The Redis run also reports its rate
// as a fraction of the memory run's (redis/memory; the target is 0.7 or
// more).
func BenchmarkStoreKeys(b *testing.B) {
	var memRate float64
	for _, store := range []string{"memory", "redis"} {
		cfg := ClusterConfig{}
		if store == "redis" {
			cfg.Logic = logic.Config{Redis: benchRedis(b)}
		}
		withFixture(b, "store="+store, func(b *testing.B) *fixture {
			return newFixture(b, cfg, client.TransportTCP, 1000, Workload{})
		}, func(b *testing.B, fx *fixture) {
			benchPush(b, fx, KindKeys, 50, 0)
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "reqs/s")
			if store == "memory" {
				memRate = rate
			} else if memRate > 0 {
				b.ReportMetric(rate/memRate, "redis/memory")
			}
		})
	}
}
