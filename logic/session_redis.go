package logic

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis key prefixes of the session store. key_ and mid_ are goim's
// layout; own_ is ours (see docs/operations.md, "Redis store").
const (
	redisKeyPrefix = "key_" // key_<key>: string, the comet id holding the key
	redisOwnPrefix = "own_" // own_<key>: string "<connid> <mid>" of the owning connection
	redisMidPrefix = "mid_" // mid_<mid>: hash, key -> comet id
)

// putScript records a session. With ARGV[6] = "1" (Renew) a live mapping
// owned by another connection is kept. It moves the key out of its old
// mid's hash and returns 1 if the key had a live mapping before.
//
// KEYS[1] key_<key>, KEYS[2] own_<key>; ARGV: key, server, connid, mid,
// ttl in ms, renew.
var putScript = redis.NewScript(`
local server = redis.call('GET', KEYS[1])
local own = redis.call('GET', KEYS[2])
local live = server and own
if live and ARGV[6] == '1' then
  if server ~= ARGV[2] or string.match(own, '^(%d+) ') ~= ARGV[3] then return 1 end
end
local oldmid = '0'
if own then oldmid = string.match(own, ' (%-?%d+)$') end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[5])
redis.call('SET', KEYS[2], ARGV[3] .. ' ' .. ARGV[4], 'PX', ARGV[5])
if oldmid ~= ARGV[4] and oldmid ~= '0' then redis.call('HDEL', 'mid_' .. oldmid, ARGV[1]) end
if ARGV[4] ~= '0' then
  redis.call('HSET', 'mid_' .. ARGV[4], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', 'mid_' .. ARGV[4], ARGV[5])
end
if live then return 1 end
return 0
`)

// deleteScript removes a session if its connection (server, connid) owns
// the key, and returns 1 if it did.
//
// KEYS[1] key_<key>, KEYS[2] own_<key>; ARGV: key, server, connid.
var deleteScript = redis.NewScript(`
local server = redis.call('GET', KEYS[1])
local own = redis.call('GET', KEYS[2])
if not server or not own or server ~= ARGV[2] then return 0 end
local conn, mid = string.match(own, '^(%d+) (%-?%d+)$')
if conn ~= ARGV[3] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
if mid ~= '0' then redis.call('HDEL', 'mid_' .. mid, ARGV[1]) end
return 1
`)

// midsScript returns {key, server, ...} for the live keys of the mids in
// ARGV, and drops from each mid's hash the keys that expired or moved to
// another mid.
var midsScript = redis.NewScript(`
local out = {}
for i = 1, #ARGV do
  local mid = ARGV[i]
  local h = 'mid_' .. mid
  local all = redis.call('HGETALL', h)
  for j = 1, #all, 2 do
    local k = all[j]
    local server = redis.call('GET', 'key_' .. k)
    local own = server and redis.call('GET', 'own_' .. k)
    if own and string.match(own, ' (%-?%d+)$') == mid then
      out[#out + 1] = k
      out[#out + 1] = server
    else
      redis.call('HDEL', h, k)
    end
  end
end
return out
`)

// redisStore is the SessionStore shared by the logic nodes of a cluster,
// kept in Redis. Each operation is one round trip: a Lua script where a
// read and a write must be atomic, an MGET for key look-ups. Sessions
// expire by Redis TTLs (PX), renewed by Put and Renew.
type redisStore struct {
	c   *redisConn
	ttl string // session TTL in milliseconds, as a command argument
}

var _ SessionStore = (*redisStore)(nil)

func newRedisStore(c *redisConn, ttl time.Duration) *redisStore {
	return &redisStore{c: c, ttl: strconv.FormatInt(max(ttl.Milliseconds(), 1), 10)}
}

// Put implements SessionStore.
func (s *redisStore) Put(ctx context.Context, sess Session) error {
	_, err := s.put(ctx, sess, "0")
	return err
}

// Renew implements SessionStore.
func (s *redisStore) Renew(ctx context.Context, sess Session) (bool, error) {
	return s.put(ctx, sess, "1")
}

func (s *redisStore) put(ctx context.Context, sess Session, renew string) (bool, error) {
	keys := []string{redisKeyPrefix + sess.Key, redisOwnPrefix + sess.Key}
	n, err := putScript.Run(ctx, s.c.ap, keys, sess.Key, sess.Server,
		strconv.FormatUint(sess.ConnID, 10), strconv.FormatInt(sess.Mid, 10), s.ttl, renew).Int64()
	if err := s.c.done("put script", err); err != nil {
		return false, err
	}
	return n == 1, nil
}

// Delete implements SessionStore.
func (s *redisStore) Delete(ctx context.Context, sess Session) (bool, error) {
	keys := []string{redisKeyPrefix + sess.Key, redisOwnPrefix + sess.Key}
	n, err := deleteScript.Run(ctx, s.c.ap, keys, sess.Key, sess.Server,
		strconv.FormatUint(sess.ConnID, 10)).Int64()
	if err := s.c.done("delete script", err); err != nil {
		return false, err
	}
	return n == 1, nil
}

// AppendByKeys implements SessionStore with one MGET.
func (s *redisStore) AppendByKeys(ctx context.Context, dst []Route, keys []string) ([]Route, error) {
	if len(keys) == 0 {
		return dst, nil
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = redisKeyPrefix + k
	}
	vals, err := s.c.ap.MGet(ctx, names...).Result()
	if err := s.c.done("MGET", err); err != nil {
		return dst, err
	}
	for i, v := range vals {
		if server, ok := v.(string); ok {
			dst = append(dst, Route{Key: keys[i], Server: server})
		}
	}
	return dst, nil
}

// AppendByMids implements SessionStore with one script run.
func (s *redisStore) AppendByMids(ctx context.Context, dst []Route, mids []int64) ([]Route, error) {
	args := make([]any, 0, len(mids))
	for _, m := range mids {
		if m != 0 {
			args = append(args, strconv.FormatInt(m, 10))
		}
	}
	if len(args) == 0 {
		return dst, nil
	}
	vals, err := midsScript.Run(ctx, s.c.ap, nil, args...).StringSlice()
	if err := s.c.done("mids script", err); err != nil {
		return dst, err
	}
	for i := 0; i+1 < len(vals); i += 2 {
		dst = append(dst, Route{Key: vals[i], Server: vals[i+1]})
	}
	return dst, nil
}

// Close implements SessionStore: it closes the Redis client, which the
// node registry shares; Logic closes the store last.
func (s *redisStore) Close() error { return s.c.close() }

// renewBatch is how many sessions renewAll sends in one round trip.
const renewBatch = 512

// renewAll renews sessions as Renew does, renewBatch of them per round
// trip: a comet re-sending all its sessions does not wait for one round
// trip per session.
func (s *redisStore) renewAll(ctx context.Context, sessions []Session) error {
	for len(sessions) > 0 {
		n := min(len(sessions), renewBatch)
		if err := s.renewChunk(ctx, sessions[:n]); err != nil {
			return err
		}
		sessions = sessions[n:]
	}
	return nil
}

func (s *redisStore) renewChunk(ctx context.Context, chunk []Session) error {
	run := func() error {
		_, err := s.c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, sess := range chunk {
				keys := []string{redisKeyPrefix + sess.Key, redisOwnPrefix + sess.Key}
				putScript.EvalSha(ctx, p, keys, sess.Key, sess.Server,
					strconv.FormatUint(sess.ConnID, 10), strconv.FormatInt(sess.Mid, 10), s.ttl, "1")
			}
			return nil
		})
		return err
	}
	err := run()
	if redis.HasErrorPrefix(err, "NOSCRIPT") { // Redis restarted: load the script, once
		if err := s.c.done("SCRIPT LOAD", putScript.Load(ctx, s.c.rdb).Err()); err != nil {
			return err
		}
		err = run()
	}
	return s.c.done("put script pipeline", err)
}
