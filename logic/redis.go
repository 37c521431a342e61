package logic

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrRedis wraps every failure of the Redis store: Redis unreachable,
// timed out, or answering an error. Pushes that fail with it answer -500
// with a message naming Redis and its address.
var ErrRedis = errors.New("redis")

// redisCounts are the counters of the Redis store behind Stats.StoreOps
// and Stats.StoreErrors.
type redisCounts struct {
	ops    atomic.Uint64 // round trips to Redis (a pipeline or script counts once)
	errors atomic.Uint64 // round trips that failed
}

// redisConn is the Redis client shared by the session store and the node
// registry of one Logic.
type redisConn struct {
	rdb    *redis.Client
	addr   string // host:port and db, for error messages
	counts *redisCounts
}

// dialRedis returns a client for url ("redis://[user:pass@]host:port/db",
// with go-redis's query options such as dial_timeout). It does not
// connect: the first command does, and every failing command retries on a
// fresh connection, so Redis may come and go while Logic runs.
func dialRedis(url string, counts *redisCounts) (*redisConn, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("logic: redis url: %w", err)
	}
	opt.DisableIdentity = true // no CLIENT SETINFO on every new connection
	return &redisConn{
		rdb:    redis.NewClient(opt),
		addr:   fmt.Sprintf("%s/%d", opt.Addr, opt.DB),
		counts: counts,
	}, nil
}

// done counts one round trip that ended with err and returns err wrapped
// with ErrRedis and the address, or nil. redis.Nil (no such key) is not
// a failure.
func (c *redisConn) done(op string, err error) error {
	c.counts.ops.Add(1)
	if err == nil || errors.Is(err, redis.Nil) {
		return nil
	}
	c.counts.errors.Add(1)
	var rerr redis.Error
	if errors.As(err, &rerr) {
		return fmt.Errorf("%w at %s: %s: %w", ErrRedis, c.addr, op, err)
	}
	return fmt.Errorf("%w at %s unreachable: %s: %w", ErrRedis, c.addr, op, err)
}

// ping checks that Redis answers within d.
func (c *redisConn) ping(ctx context.Context, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return c.done("ping", c.rdb.Ping(ctx).Err())
}

// close closes the client's connections.
func (c *redisConn) close() error {
	if err := c.rdb.Close(); err != nil {
		return fmt.Errorf("logic: close redis client: %w", err)
	}
	return nil
}
