package logic

import (
	"sync/atomic"

	"github.com/goimx/goim/rpc"
)

// Stats are a Logic's counters since New, and the current size of its
// session store and registry. Every field is read on its own, so a Stats
// taken under load is not an exact snapshot.
type Stats struct {
	// Sessions is the number of sessions in the store, expired ones not
	// yet swept included, or -1 when the store cannot tell (it has no
	// Len() int method, as a custom Config.Sessions or the Redis store
	// may not; MemoryStore has one).
	Sessions int
	// Comets is the number of live comet nodes, offline ones included.
	Comets int
	// Jobs is the number of live job nodes taking pushes.
	Jobs int
	// JobsOffline is the number of live job nodes going down (reporting
	// Offline), which take no new pushes.
	JobsOffline int
	// Rooms is the number of rooms with at least one connection on a live
	// comet.
	Rooms int

	// Pushes counts the pushes accepted, through the HTTP API or the Push
	// methods: a job took the message for every comet concerned. A push
	// that found no connection online counts as accepted.
	Pushes PushCounts
	// PushFailures counts the pushes that failed (no job, a job refused
	// or timed out, the session store failed): the HTTP API answered
	// -500, or a Push method returned an error. A push that reached some
	// comets but not all counts here.
	PushFailures PushCounts
	// BadRequests counts the HTTP API answers -400: a missing or malformed
	// parameter, a body over Config.MaxMessageSize, a wrong method or an
	// unknown path.
	BadRequests uint64
	// OverLimit counts the HTTP API answers -400 for a limit: more keys,
	// mids or rooms than Config.MaxPushTargets, a body over
	// Config.MaxMessageSize, a room id over 256 bytes. They count in
	// BadRequests too.
	OverLimit uint64
	// Unauthorized counts the HTTP API answers -401: a request without a
	// valid API key (Config.APIKeysFile).
	Unauthorized uint64

	// Connects counts the Connect calls that recorded a session.
	Connects uint64
	// ConnectsRefused counts the Connect calls answered with an error (a
	// malformed or, with Config.TokenSecretFile, unsigned, forged or
	// expired token, no server, the session store failed).
	ConnectsRefused uint64
	// Disconnects counts the Disconnect calls answered without error,
	// whether or not the session was still there.
	Disconnects uint64
	// Heartbeats counts the Heartbeat calls answered without error.
	Heartbeats uint64

	// StoreOps counts the round trips to the shared store (Redis, with
	// Config.Redis): session writes and look-ups, node reports, registry
	// refreshes. The in-memory stores count none.
	StoreOps uint64
	// StoreErrors counts the StoreOps that failed: Redis unreachable,
	// timed out or answering an error.
	StoreErrors uint64
}

// PushCounts counts pushes by kind.
type PushCounts struct {
	Keys uint64 // pushes to connection keys (/goim/push/keys, PushKeys)
	Mids uint64 // pushes to users (/goim/push/mids, PushMids)
	Room uint64 // pushes to a room (/goim/push/room, PushRoom)
	All  uint64 // broadcasts (/goim/push/all, PushAll)
}

// Total returns the sum over the kinds.
func (c PushCounts) Total() uint64 { return c.Keys + c.Mids + c.Room + c.All }

// pushKind indexes the per-kind push counters.
type pushKind uint8

const (
	pushKindKeys pushKind = iota
	pushKindMids
	pushKindRoom
	pushKindAll
	numPushKinds
)

// counters are the atomic counters behind Stats. Adding to them does not
// allocate, so the push path stays allocation-free.
type counters struct {
	pushes          [numPushKinds]atomic.Uint64
	pushFailures    [numPushKinds]atomic.Uint64
	badRequests     atomic.Uint64
	overLimit       atomic.Uint64
	unauthorized    atomic.Uint64
	connects        atomic.Uint64
	connectsRefused atomic.Uint64
	disconnects     atomic.Uint64
	heartbeats      atomic.Uint64
	store           redisCounts
}

// countPush counts one push of kind that ended with err (nil: accepted).
func (c *counters) countPush(kind pushKind, err error) {
	if err != nil {
		c.pushFailures[kind].Add(1)
		return
	}
	c.pushes[kind].Add(1)
}

// pushCounts loads one row of per-kind counters.
func pushCounts(a *[numPushKinds]atomic.Uint64) PushCounts {
	return PushCounts{
		Keys: a[pushKindKeys].Load(),
		Mids: a[pushKindMids].Load(),
		Room: a[pushKindRoom].Load(),
		All:  a[pushKindAll].Load(),
	}
}

// sessionCounter is implemented by session stores that can count their
// sessions (MemoryStore).
type sessionCounter interface{ Len() int }

// Stats returns the counters since New and the current number of
// sessions, live nodes and rooms. It takes the registry lock and, for a
// MemoryStore, each shard's read lock in turn: call it periodically, not
// per request.
func (l *Logic) Stats() Stats {
	c := &l.stats
	s := Stats{
		Sessions:        -1,
		Pushes:          pushCounts(&c.pushes),
		PushFailures:    pushCounts(&c.pushFailures),
		BadRequests:     c.badRequests.Load(),
		OverLimit:       c.overLimit.Load(),
		Unauthorized:    c.unauthorized.Load(),
		Connects:        c.connects.Load(),
		ConnectsRefused: c.connectsRefused.Load(),
		Disconnects:     c.disconnects.Load(),
		Heartbeats:      c.heartbeats.Load(),
		StoreOps:        c.store.ops.Load(),
		StoreErrors:     c.store.errors.Load(),
	}
	if sc, ok := l.sessions.(sessionCounter); ok {
		s.Sessions = sc.Len()
	}
	n := l.reg.counts(l.cfg.Now())
	s.Comets, s.Jobs, s.JobsOffline, s.Rooms = n.comets, n.jobs, n.jobsOffline, n.rooms
	return s
}

// RPCStats returns the counters of logic's RPC server (connections,
// failed handshakes, refused and idle connections).
func (l *Logic) RPCStats() rpc.ServerStats { return l.rpcSrv.Stats() }
