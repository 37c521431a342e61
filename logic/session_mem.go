package logic

import (
	"context"
	"math/bits"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// MemoryStoreConfig configures a MemoryStore.
type MemoryStoreConfig struct {
	// TTL is how long a session lives without renewal. 0 means
	// DefaultSessionTTL.
	TTL time.Duration
	// Shards is the number of key shards and of mid shards, rounded up to a
	// power of two. 0 means DefaultSessionShards.
	Shards int
	// Now is the clock. nil means time.Now.
	Now func() time.Time
}

// MemoryStore is the in-memory SessionStore of a single logic node:
// fixed power-of-two arrays of key shards and mid shards indexed by xxhash.
//
// Lock order: a keyShard's mu before a midShard's mu; never two shards of
// the same kind at once. Every change to a key's mapping, including its
// mid index entry, happens under that key's shard lock, so operations on
// one key are serialized.
type MemoryStore struct {
	ttl  time.Duration
	now  func() time.Time
	mask uint64
	keys []keyShard
	mids []midShard
}

// keyEntry is the stored mapping of one key.
type keyEntry struct {
	mid    int64
	server string
	connID uint64
	expire int64 // unix nanoseconds
}

// keyShard holds the mappings of the keys that hash to it.
type keyShard struct {
	mu sync.RWMutex // guards m; taken before any midShard.mu
	m  map[string]keyEntry
	_  [32]byte // keep neighbouring shard locks off one cache line
}

// midShard holds the key sets of the mids that hash to it.
type midShard struct {
	mu sync.RWMutex // guards m; taken after a keyShard.mu, if any
	m  map[int64]map[string]struct{}
	_  [32]byte
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore(cfg MemoryStoreConfig) *MemoryStore {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultSessionTTL
	}
	if cfg.Shards <= 0 {
		cfg.Shards = DefaultSessionShards
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	n := 1 << bits.Len(uint(cfg.Shards-1))
	s := &MemoryStore{
		ttl:  cfg.TTL,
		now:  cfg.Now,
		mask: uint64(n - 1),
		keys: make([]keyShard, n),
		mids: make([]midShard, n),
	}
	for i := range s.keys {
		s.keys[i].m = make(map[string]keyEntry)
		s.mids[i].m = make(map[int64]map[string]struct{})
	}
	return s
}

func (s *MemoryStore) keyShard(key string) *keyShard {
	return &s.keys[xxhash.Sum64String(key)&s.mask]
}

func (s *MemoryStore) midShard(mid int64) *midShard {
	return &s.mids[mix64(uint64(mid))&s.mask]
}

// Put implements SessionStore.
func (s *MemoryStore) Put(_ context.Context, sess Session) error {
	now := s.now().UnixNano()
	ks := s.keyShard(sess.Key)
	ks.mu.Lock()
	old, had := ks.m[sess.Key]
	ks.m[sess.Key] = s.entry(sess, now)
	if had && old.mid != sess.Mid {
		s.unindexLocked(old.mid, sess.Key)
	}
	if !had || old.mid != sess.Mid {
		s.indexLocked(sess.Mid, sess.Key)
	}
	ks.mu.Unlock()
	return nil
}

// Renew implements SessionStore.
func (s *MemoryStore) Renew(_ context.Context, sess Session) (bool, error) {
	now := s.now().UnixNano()
	ks := s.keyShard(sess.Key)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	old, had := ks.m[sess.Key]
	live := had && old.expire > now
	if live && (old.server != sess.Server || old.connID != sess.ConnID) {
		return true, nil // another connection owns the key now
	}
	ks.m[sess.Key] = s.entry(sess, now)
	if had && old.mid != sess.Mid {
		s.unindexLocked(old.mid, sess.Key)
	}
	if !had || old.mid != sess.Mid {
		s.indexLocked(sess.Mid, sess.Key)
	}
	return live, nil
}

// Delete implements SessionStore.
func (s *MemoryStore) Delete(_ context.Context, sess Session) (bool, error) {
	ks := s.keyShard(sess.Key)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	old, had := ks.m[sess.Key]
	if !had || old.server != sess.Server || old.connID != sess.ConnID {
		return false, nil
	}
	delete(ks.m, sess.Key)
	s.unindexLocked(old.mid, sess.Key)
	return true, nil
}

// AppendByKeys implements SessionStore.
func (s *MemoryStore) AppendByKeys(_ context.Context, dst []Route, keys []string) ([]Route, error) {
	now := s.now().UnixNano()
	for _, k := range keys {
		ks := s.keyShard(k)
		ks.mu.RLock()
		e, ok := ks.m[k]
		ks.mu.RUnlock()
		if ok && e.expire > now {
			dst = append(dst, Route{Key: k, Server: e.server})
		}
	}
	return dst, nil
}

// AppendByMids implements SessionStore. The keys of each mid are read
// first, then each key's mapping is checked to still belong to that mid.
func (s *MemoryStore) AppendByMids(_ context.Context, dst []Route, mids []int64) ([]Route, error) {
	now := s.now().UnixNano()
	for _, mid := range mids {
		if mid == 0 {
			continue
		}
		start := len(dst)
		ms := s.midShard(mid)
		ms.mu.RLock()
		for k := range ms.m[mid] {
			dst = append(dst, Route{Key: k})
		}
		ms.mu.RUnlock()
		dst = s.resolveMid(dst, start, mid, now)
	}
	return dst, nil
}

// resolveMid fills in the servers of dst[start:], dropping keys that
// expired or moved to another mid meanwhile.
func (s *MemoryStore) resolveMid(dst []Route, start int, mid, now int64) []Route {
	out := start
	for _, r := range dst[start:] {
		ks := s.keyShard(r.Key)
		ks.mu.RLock()
		e, ok := ks.m[r.Key]
		ks.mu.RUnlock()
		if ok && e.mid == mid && e.expire > now {
			dst[out] = Route{Key: r.Key, Server: e.server}
			out++
		}
	}
	clear(dst[out:])
	return dst[:out]
}

// Sweep removes expired sessions from memory and returns how many it
// removed. Look-ups ignore expired sessions whether swept or not.
func (s *MemoryStore) Sweep() int {
	now := s.now().UnixNano()
	n := 0
	for i := range s.keys {
		ks := &s.keys[i]
		ks.mu.Lock()
		for k, e := range ks.m {
			if e.expire <= now {
				delete(ks.m, k)
				s.unindexLocked(e.mid, k)
				n++
			}
		}
		ks.mu.Unlock()
	}
	return n
}

// Len returns the number of stored sessions, expired ones not yet swept
// included.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.keys {
		ks := &s.keys[i]
		ks.mu.RLock()
		n += len(ks.m)
		ks.mu.RUnlock()
	}
	return n
}

// Close implements SessionStore; the store stays usable.
func (s *MemoryStore) Close() error { return nil }

func (s *MemoryStore) entry(sess Session, now int64) keyEntry {
	return keyEntry{mid: sess.Mid, server: sess.Server, connID: sess.ConnID, expire: now + int64(s.ttl)}
}

// indexLocked adds key to mid's key set. The key's shard lock is held.
func (s *MemoryStore) indexLocked(mid int64, key string) {
	if mid == 0 {
		return
	}
	ms := s.midShard(mid)
	ms.mu.Lock()
	set := ms.m[mid]
	if set == nil {
		set = make(map[string]struct{}, 1)
		ms.m[mid] = set
	}
	set[key] = struct{}{}
	ms.mu.Unlock()
}

// unindexLocked removes key from mid's key set. The key's shard lock is
// held.
func (s *MemoryStore) unindexLocked(mid int64, key string) {
	if mid == 0 {
		return
	}
	ms := s.midShard(mid)
	ms.mu.Lock()
	if set := ms.m[mid]; set != nil {
		delete(set, key)
		if len(set) == 0 {
			delete(ms.m, mid)
		}
	}
	ms.mu.Unlock()
}

// mix64 is the splitmix64 finalizer: a cheap, well-spread hash of v.
func mix64(v uint64) uint64 {
	v ^= v >> 30
	v *= 0xbf58476d1ce4e5b9
	v ^= v >> 27
	v *= 0x94d049bb133111eb
	v ^= v >> 31
	return v
}
