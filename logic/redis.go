package logic

import (
	"context"
	"errors"
	"fmt"
	"net/url"
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
	rdb *redis.Client
	// ap sends the session store's commands: concurrent commands share
	// one pipelined write and read, which under load cuts the system
	// calls per push on both ends (go-redis marks the API experimental;
	// go.mod pins the version).
	ap     *redis.AutoPipeliner
	addr   string // host:port and db, for error messages
	counts *redisCounts
}

// Client settings where the Redis URL gives none: a push fails fast when
// Redis is down instead of waiting out retries.
const (
	redisDialTimeout = time.Second
	redisIOTimeout   = time.Second // read and write
	redisMaxRetries  = 1           // one retry on a fresh connection, e.g. after Redis restarted
)

// dialRedis returns a client for rawURL ("redis://[user:pass@]host:port/db",
// with go-redis's query options such as dial_timeout). It does not
// connect: the first command does, and a failing command retries once on
// a fresh connection, so Redis may come and go while Logic runs.
func dialRedis(rawURL string, counts *redisCounts) (*redisConn, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("logic: redis url: %w", err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("logic: redis url: %w", err)
	}
	q := u.Query()
	if !q.Has("dial_timeout") {
		opt.DialTimeout = redisDialTimeout
	}
	if !q.Has("read_timeout") {
		opt.ReadTimeout = redisIOTimeout
	}
	if !q.Has("write_timeout") {
		opt.WriteTimeout = redisIOTimeout
	}
	if !q.Has("max_retries") {
		opt.MaxRetries = redisMaxRetries
	}
	opt.DialerRetries = 1            // the command's own retry dials again
	opt.ContextTimeoutEnabled = true // a push's deadline bounds its round trip
	opt.DisableIdentity = true       // no CLIENT SETINFO on every new connection
	rdb := redis.NewClient(opt)
	ap, err := rdb.AutoPipeline()
	if err != nil {
		rdb.Close()
		return nil, fmt.Errorf("logic: redis autopipeline: %w", err)
	}
	return &redisConn{
		ap:     ap,
		rdb:    rdb,
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
