package comet

import (
	"net/netip"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// ipShards is the number of ipCounter shards.
const ipShards = 16

// ipCounter counts authenticated connections per remote IP, sharded by IP
// so that connects on many cores rarely share a lock. The number of
// distinct IPs is the sum of the shards' sizes.
type ipCounter struct {
	shards [ipShards]ipShard
}

// ipShard is one shard of an ipCounter.
type ipShard struct {
	mu sync.Mutex // guards m
	m  map[netip.Addr]int32
	_  [40]byte // keeps neighbouring shards' locks off one cache line
}

// shard returns the shard of ip.
func (ic *ipCounter) shard(ip netip.Addr) *ipShard {
	a := ip.As16()
	return &ic.shards[xxhash.Sum64(a[:])%ipShards]
}

// add counts one more connection from ip and returns ip's count (an
// invalid ip is not counted: 0).
func (ic *ipCounter) add(ip netip.Addr) int32 {
	if !ip.IsValid() {
		return 0
	}
	s := ic.shard(ip)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[netip.Addr]int32)
	}
	s.m[ip]++
	return s.m[ip]
}

// del counts one connection less from ip.
func (ic *ipCounter) del(ip netip.Addr) {
	if !ip.IsValid() {
		return
	}
	s := ic.shard(ip)
	s.mu.Lock()
	if s.m[ip]--; s.m[ip] <= 0 {
		delete(s.m, ip)
	}
	s.mu.Unlock()
}

// count returns the number of distinct IPs with a connection.
func (ic *ipCounter) count() int {
	n := 0
	for i := range ic.shards {
		s := &ic.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
