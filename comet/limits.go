package comet

import (
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/goimx/goim/protocol"
)

// maxRoomLen is the longest room id a client may name (auth, op 12,
// join, leave), as logic's limit on the room ids of an auth token.
const maxRoomLen = protocol.MaxRoomLen

// extraRoomLimit returns the most additional rooms a connection may be
// in besides its primary room; negative means no limit.
func (cm *Comet) extraRoomLimit() int {
	if cm.cfg.MaxRooms < 0 {
		return -1
	}
	return cm.cfg.MaxRooms - 1
}

// extraRoomIDs returns rooms without empty ids, duplicates and primary,
// in their first order. It reports false when one is over maxRoomLen.
func extraRoomIDs(primary string, rooms []string) ([]string, bool) {
	if len(rooms) == 0 {
		return nil, true
	}
	ids := make([]string, 0, len(rooms))
	for _, id := range rooms {
		if len(id) > maxRoomLen {
			return nil, false
		}
		if id != "" && id != primary && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, true
}

// errLimit ends a connection closed for going over a limit; the close
// reason, recorded before, says which.
var errLimit = errors.New("comet: over a limit")

// refuse closes c for reason (with a WebSocket close frame saying it) and
// returns errLimit for the reader to end with. It runs on the reader
// goroutine, past the WebSocket upgrade.
func (c *conn) refuse(reason CloseReason) error {
	c.closeGracefully(reason)
	return errLimit
}

// admit counts c in its IP's open connections and reports whether the IP
// stays within Config.MaxConnsPerIP. Every connection that enters serve is
// counted, admitted or not; finish uncounts it.
func (c *conn) admit() bool {
	n := c.cm.ipConns.add(c.remoteIP())
	limit := c.cm.cfg.MaxConnsPerIP
	return limit < 0 || int(n) <= limit
}

// allowAuth reports whether c's IP may authenticate once more this second
// (Config.AuthRatePerIP).
func (c *conn) allowAuth() bool {
	limit := c.cm.cfg.AuthRatePerIP
	return limit < 0 || c.cm.authRate.allow(c.remoteIP(), limit, time.Now())
}

// allowMsg reports whether c may send one more packet this second
// (Config.MsgRate). It runs on the reader goroutine, which alone owns
// msgWin and msgs: two 16-bit fields that sit in the padding of conn, so
// the limit adds no byte to a connection. The second is kept modulo 2^16:
// a connection silent for exactly a multiple of 18.2 hours, which a
// heartbeating client never is, would go on with the old second's count.
func (c *conn) allowMsg() bool {
	limit := c.cm.cfg.MsgRate
	if limit < 0 {
		return true
	}
	if now := uint16(time.Now().Unix()); now != c.msgWin {
		c.msgWin, c.msgs = now, 0
	}
	if int(c.msgs) >= limit {
		return false
	}
	c.msgs++
	return true
}

// rateShards is the number of shards of a rateLimiter.
const rateShards = 16

// rateLimiter counts events per IP in fixed one-second windows, sharded
// by IP. A shard forgets every count when its second ends, so its map
// holds only the IPs seen within the current second.
type rateLimiter struct {
	shards [rateShards]rateShard
}

// rateShard is one shard of a rateLimiter.
type rateShard struct {
	mu     sync.Mutex // guards sec and counts
	sec    int64      // the second counts are for (Unix time)
	counts map[netip.Addr]int32
	_      [40]byte // keeps neighbouring shards' locks off one cache line
}

// allow counts one event from ip at now and reports whether ip had fewer
// than limit events in now's second. An invalid ip (not a TCP peer) is
// always allowed.
func (rl *rateLimiter) allow(ip netip.Addr, limit int, now time.Time) bool {
	if !ip.IsValid() {
		return true
	}
	a := ip.As16()
	s := &rl.shards[xxhash.Sum64(a[:])%rateShards]
	sec := now.Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sec != sec || s.counts == nil {
		if s.counts == nil || len(s.counts) > 1024 {
			s.counts = make(map[netip.Addr]int32) // drop a map a burst of IPs grew
		} else {
			clear(s.counts)
		}
		s.sec = sec
	}
	n := s.counts[ip]
	if int(n) >= limit {
		return false
	}
	s.counts[ip] = n + 1
	return true
}
