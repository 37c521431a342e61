package logic

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
	"github.com/redis/go-redis/v9"
)

// Redis keys of the node registry (see docs/operations.md, "Redis
// store"). ol_<comet> is goim's name; the others are ours.
const (
	redisNodeInfo  = "node_info"  // hash: "<kind>:<id>" -> "<seen ns> <JSON of redisNode>"
	redisNodeSeen  = "node_seen"  // sorted set: "<kind>:<id>" scored by the last report, unix ms
	redisNodePicks = "node_picks" // hash: "comet:<id>" -> balancer picks since its last report
	redisOnline    = "ol_"        // ol_<comet id>: hash, room id -> connections on that comet
	redisEpoch     = "epoch"      // string: the store's epoch, answered in ReportReply.Epoch
)

// redisPurge is the Lua fragment that drops the nodes whose last report
// is before cutoff (unix ms, in the named variable) from every registry
// key. KEYS[1..3] are node_info, node_seen, node_picks.
const redisPurge = `
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. cutoff)
for _, m in ipairs(dead) do
  redis.call('HDEL', KEYS[1], m)
  redis.call('ZREM', KEYS[2], m)
  redis.call('HDEL', KEYS[3], m)
  if string.sub(m, 1, 6) == 'comet:' then redis.call('DEL', 'ol_' .. string.sub(m, 7)) end
end
`

// reportScript records a node report, purges dead nodes and returns {1 if
// the node was live before else 0, the store's epoch}. The epoch is set
// to the candidate when the store has none (it is new, or lost its data).
// A report of an id held by a live node at another RPC address changes
// nothing and returns {-1, epoch, the holder's address}.
//
// KEYS: node_info, node_seen, node_picks, ol_<id>, epoch. ARGV: member,
// record, seen ms, cutoff ms, ol_ TTL ms, "1" for a comet, epoch
// candidate, the node's RPC address, then room and count pairs.
var reportScript = redis.NewScript(`
local cutoff = ARGV[4]
redis.call('SET', KEYS[5], ARGV[7], 'NX')
local epoch = redis.call('GET', KEYS[5])
local prev = redis.call('ZSCORE', KEYS[2], ARGV[1])
local live = prev and tonumber(prev) >= tonumber(cutoff)
if live then
  local rec = redis.call('HGET', KEYS[1], ARGV[1])
  local sp = rec and string.find(rec, ' ', 1, true)
  if sp then
    local ok, held = pcall(cjson.decode, string.sub(rec, sp + 1))
    if ok and type(held) == 'table' and held.rpc_addr ~= ARGV[8] then
      return {-1, epoch, tostring(held.rpc_addr)}
    end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if ARGV[6] == '1' then
  redis.call('DEL', KEYS[4])
  for i = 9, #ARGV, 2 do redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1]) end
  if #ARGV >= 9 then redis.call('PEXPIRE', KEYS[4], ARGV[5]) end
  redis.call('HDEL', KEYS[3], ARGV[1])
end
` + redisPurge + `
local known = 0
if live then known = 1 end
return {known, epoch}
`)

// loadScript purges dead nodes and returns every node as {member,
// record, picks, {room, count, ...}}.
//
// KEYS: node_info, node_seen, node_picks. ARGV: cutoff ms.
var loadScript = redis.NewScript(`
local cutoff = ARGV[1]
` + redisPurge + `
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local m = all[i]
  local rooms = {}
  local picks = '0'
  if string.sub(m, 1, 6) == 'comet:' then
    rooms = redis.call('HGETALL', 'ol_' .. string.sub(m, 7))
    picks = redis.call('HGET', KEYS[3], m) or '0'
  end
  out[#out + 1] = {m, all[i + 1], picks, rooms}
end
return out
`)

// redisNode is the JSON form of a node's metadata in node_info.
type redisNode struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	RPCAddr   string   `json:"rpc_addr"`
	Addrs     []string `json:"addrs,omitempty"`
	Hostname  string   `json:"hostname,omitempty"`
	Region    string   `json:"region,omitempty"`
	Zone      string   `json:"zone,omitempty"`
	Env       string   `json:"env,omitempty"`
	Version   string   `json:"version,omitempty"`
	Weight    int32    `json:"weight,omitempty"`
	Offline   bool     `json:"offline,omitempty"`
	ConnCount int32    `json:"conn_count,omitempty"`
	IPCount   int32    `json:"ip_count,omitempty"`
}

func toRedisNode(n *logicrpc.NodeInfo) redisNode {
	return redisNode{
		ID: n.ID, Kind: n.Kind, RPCAddr: n.RPCAddr, Addrs: n.Addrs, Hostname: n.Hostname,
		Region: n.Region, Zone: n.Zone, Env: n.Env, Version: n.Version, Weight: n.Weight,
		Offline: n.Offline, ConnCount: n.ConnCount, IPCount: n.IPCount,
	}
}

func (n *redisNode) nodeInfo() logicrpc.NodeInfo {
	return logicrpc.NodeInfo{
		ID: n.ID, Kind: n.Kind, RPCAddr: n.RPCAddr, Addrs: n.Addrs, Hostname: n.Hostname,
		Region: n.Region, Zone: n.Zone, Env: n.Env, Version: n.Version, Weight: n.Weight,
		Offline: n.Offline, ConnCount: n.ConnCount, IPCount: n.IPCount,
	}
}

// redisNodes is the nodeStore shared by the logic nodes of a cluster:
// reports go to Redis, and the local registry is a snapshot of Redis,
// reloaded every Config.RegistryRefresh and right after each report this
// node takes. The push path reads only the snapshot.
type redisNodes struct {
	c   *redisConn
	reg *registry // the local snapshot
	ttl time.Duration

	mu      sync.Mutex // guards lastErr
	lastErr error      // of the last refresh
}

var _ nodeStore = (*redisNodes)(nil)

func newRedisNodes(c *redisConn, reg *registry, ttl time.Duration) *redisNodes {
	return &redisNodes{c: c, reg: reg, ttl: ttl}
}

func (s *redisNodes) keys() []string {
	return []string{redisNodeInfo, redisNodeSeen, redisNodePicks}
}

// cutoff is the unix ms before which a node's last report means it left.
func (s *redisNodes) cutoff(now time.Time) string {
	return strconv.FormatInt(now.Add(-s.ttl).UnixMilli(), 10)
}

// report implements nodeStore. The epoch it answers is the store's: it
// changes only when Redis lost the registry (and so, likely, the
// sessions), not when logic nodes restart or a comet moves to another.
func (s *redisNodes) report(ctx context.Context, req *logicrpc.ReportReq, now time.Time) (reportResult, error) {
	n := &req.Node
	if err := validateNode(n); err != nil {
		return reportResult{}, err
	}
	rec, err := json.Marshal(toRedisNode(n))
	if err != nil {
		return reportResult{}, fmt.Errorf("logic: encode node %s: %w", n.ID, err)
	}
	member := n.Kind + ":" + n.ID
	comet, isComet := n.Kind == logicrpc.KindComet, "0"
	if comet {
		isComet = "1"
	}
	args := make([]any, 0, 8+2*len(req.RoomCount))
	args = append(args, member, strconv.FormatInt(now.UnixNano(), 10)+" "+string(rec),
		strconv.FormatInt(now.UnixMilli(), 10), s.cutoff(now),
		strconv.FormatInt(max(2*s.ttl.Milliseconds(), 1), 10), isComet,
		strconv.FormatInt(newEpoch(), 10), // the store's epoch if it has none
		n.RPCAddr)
	if comet {
		for room, c := range req.RoomCount {
			if c > 0 {
				args = append(args, room, strconv.FormatInt(int64(c), 10))
			}
		}
	}
	keys := append(s.keys(), redisOnline+n.ID, redisEpoch)
	v, err := reportScript.Run(ctx, s.c.rdb, keys, args...).Slice()
	if err := s.c.done("report script", err); err != nil {
		return reportResult{}, fmt.Errorf("logic: report %s %s: %w", n.Kind, n.ID, err)
	}
	if len(v) == 3 {
		if known, _ := v[0].(int64); known == -1 {
			holder, _ := v[2].(string)
			return reportResult{}, idTakenError(n, holder)
		}
	}
	var res reportResult
	if len(v) == 2 {
		known, _ := v[0].(int64)
		epoch, _ := v[1].(string)
		res.known = known == 1
		res.epoch, err = strconv.ParseInt(epoch, 10, 64)
	}
	if len(v) != 2 || err != nil || res.epoch == 0 {
		return reportResult{}, fmt.Errorf("logic: report %s %s: bad answer %v from redis", n.Kind, n.ID, v)
	}
	if err := s.refresh(ctx, now); err != nil {
		return reportResult{}, fmt.Errorf("logic: report %s %s: %w", n.Kind, n.ID, err)
	}
	if comet {
		res.counts = s.reg.roomCounts(req.RoomCount)
	}
	return res, nil
}

func (s *redisNodes) picked(ctx context.Context, id string) {
	// A lost pick only makes the balancer's next answers less even until
	// the comet's next report; the push API does not fail for it.
	_ = s.c.done("count pick", s.c.rdb.HIncrBy(ctx, redisNodePicks, logicrpc.KindComet+":"+id, 1).Err())
}

// refresh reloads the local registry from Redis. On failure the snapshot
// is kept: its nodes leave as their last reports age past the node TTL.
func (s *redisNodes) refresh(ctx context.Context, now time.Time) error {
	nodes, err := s.load(ctx, now)
	s.mu.Lock()
	s.lastErr = err
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.reg.load(nodes, now)
	return nil
}

func (s *redisNodes) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// load reads every node from Redis.
func (s *redisNodes) load(ctx context.Context, now time.Time) ([]storedNode, error) {
	v, err := loadScript.Run(ctx, s.c.rdb, s.keys(), s.cutoff(now)).Slice()
	if err := s.c.done("load script", err); err != nil {
		return nil, err
	}
	nodes := make([]storedNode, 0, len(v))
	for _, item := range v {
		n, err := parseStoredNode(item)
		if err != nil {
			return nil, fmt.Errorf("logic: load the node registry: %w", err)
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// parseStoredNode decodes one {member, record, picks, rooms} entry of
// loadScript.
func parseStoredNode(item any) (storedNode, error) {
	var n storedNode
	f, ok := item.([]any)
	if !ok || len(f) != 4 {
		return n, fmt.Errorf("bad node entry %v", item)
	}
	member, _ := f[0].(string)
	rec, _ := f[1].(string)
	picks, _ := f[2].(string)
	rooms, _ := f[3].([]any)
	seen, js, ok := strings.Cut(rec, " ")
	if !ok {
		return n, fmt.Errorf("node %s: bad record %q", member, rec)
	}
	var err error
	if n.seen, err = strconv.ParseInt(seen, 10, 64); err != nil {
		return n, fmt.Errorf("node %s: seen: %w", member, err)
	}
	var rn redisNode
	if err := json.Unmarshal([]byte(js), &rn); err != nil {
		return n, fmt.Errorf("node %s: %w", member, err)
	}
	n.info = rn.nodeInfo()
	n.picks, _ = strconv.ParseInt(picks, 10, 64)
	if len(rooms) > 0 {
		n.rooms = make(map[string]int32, len(rooms)/2)
	}
	for i := 0; i+1 < len(rooms); i += 2 {
		room, _ := rooms[i].(string)
		cs, _ := rooms[i+1].(string)
		c, err := strconv.ParseInt(cs, 10, 32)
		if err != nil {
			return n, fmt.Errorf("node %s: room %s count %q: %w", member, room, cs, err)
		}
		if c > 0 {
			n.rooms[room] = int32(c)
		}
	}
	return n, nil
}
