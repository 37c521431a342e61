package logic

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/goimx/goim/logic/logicrpc"
)

// nodeEntry is one live node of the registry.
type nodeEntry struct {
	info logicrpc.NodeInfo
	seen atomic.Int64 // unix nanoseconds of the last report; written under registry.mu
	// down is, for a job, the unix nanoseconds when a push found no link
	// to it: the job is skipped while it has not reported since (see
	// registry.jobDown). Written without a lock.
	down  atomic.Int64
	rooms map[string]int32 // comets: room id -> connections on this node (owned copy)
	picks int64            // comets: balancer picks since the last report
}

// jobRef is a live job node as the push path sees it, in an immutable
// snapshot.
type jobRef struct {
	id    string
	hash  uint64 // xxhash of id, for rendezvous hashing
	info  logicrpc.NodeInfo
	entry *nodeEntry // for the last-seen time
}

// registry holds the live comet and job nodes and the cluster-wide room
// counts. A node leaves when it has not reported for ttl: every method
// that takes mu first drops such nodes, so results never include a silent
// node whether a sweep ran or not.
type registry struct {
	ttl time.Duration

	mu     sync.Mutex            // guards comets, jobs, rooms; taken alone
	comets map[string]*nodeEntry // id -> comet
	jobs   map[string]*nodeEntry // id -> job
	rooms  map[string]int64      // room id -> connections on live comets (> 0)

	// jobSnap is the sorted list of jobs, replaced under mu when the job
	// set or an address changes and read without locks.
	jobSnap atomic.Pointer[[]jobRef]
	// cometSnap maps the comet ids to their entries, replaced under mu
	// when a comet joins or leaves and read without locks by the push path.
	cometSnap atomic.Pointer[map[string]*nodeEntry]
}

func newRegistry(ttl time.Duration) *registry {
	r := &registry{
		ttl:    ttl,
		comets: make(map[string]*nodeEntry),
		jobs:   make(map[string]*nodeEntry),
		rooms:  make(map[string]int64),
	}
	r.jobSnap.Store(new([]jobRef))
	r.cometSnap.Store(new(map[string]*nodeEntry))
	return r
}

// report records a node's report. It returns whether the node was live
// before and, for a comet, the cluster-wide counts of the rooms it
// reported.
func (r *registry) report(req *logicrpc.ReportReq, now time.Time) (bool, map[string]int32, error) {
	n := &req.Node
	if n.ID == "" {
		return false, nil, fmt.Errorf("%w: empty id", logicrpc.ErrBadNode)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(now)
	if err := r.checkHolderLocked(n); err != nil {
		return false, nil, err
	}
	switch n.Kind {
	case logicrpc.KindComet:
		known, counts := r.reportCometLocked(req, now)
		return known, counts, nil
	case logicrpc.KindJob:
		return r.reportJobLocked(n, now), nil, nil
	}
	return false, nil, fmt.Errorf("%w: unknown kind %q", logicrpc.ErrBadNode, n.Kind)
}

// checkHolderLocked refuses a report of a node id that a live node of
// the same kind holds at another RPC address: an impostor (or a second
// node misconfigured with the same id) would otherwise take the live
// node's pushes. The holder keeps the id until it goes silent for the
// node TTL; a node restarting at the same address keeps it at once.
func (r *registry) checkHolderLocked(n *logicrpc.NodeInfo) error {
	var held map[string]*nodeEntry
	switch n.Kind {
	case logicrpc.KindComet:
		held = r.comets
	case logicrpc.KindJob:
		held = r.jobs
	default:
		return nil // refused by the caller
	}
	if e, ok := held[n.ID]; ok && e.info.RPCAddr != n.RPCAddr {
		return idTakenError(n, e.info.RPCAddr)
	}
	return nil
}

// idTakenError is the error of a report refused by checkHolderLocked (or
// the Redis store's check): the node id is held by a live node at addr.
func idTakenError(n *logicrpc.NodeInfo, addr string) error {
	return fmt.Errorf("%w: %s id %q is held by a live node at %s, not %s (ids must be unique; it frees after the node TTL of silence)",
		logicrpc.ErrBadNode, n.Kind, n.ID, addr, n.RPCAddr)
}

// reportCometLocked replaces the comet's record and room counts.
func (r *registry) reportCometLocked(req *logicrpc.ReportReq, now time.Time) (bool, map[string]int32) {
	e, known := r.comets[req.Node.ID]
	if !known {
		e = new(nodeEntry)
		r.comets[req.Node.ID] = e
		r.snapCometsLocked()
	}
	r.subRoomsLocked(e.rooms)
	e.info = cloneNode(req.Node)
	e.seen.Store(now.UnixNano())
	e.picks = 0
	e.rooms = make(map[string]int32, len(req.RoomCount))
	counts := make(map[string]int32, len(req.RoomCount))
	for room, c := range req.RoomCount {
		if c > 0 {
			e.rooms[room] = c
			r.rooms[room] += int64(c)
		}
	}
	for room := range req.RoomCount {
		counts[room] = clamp32(r.rooms[room])
	}
	return known, counts
}

// reportJobLocked records a job node and refreshes the job snapshot when
// the job is new, moved, or went offline or back online.
func (r *registry) reportJobLocked(n *logicrpc.NodeInfo, now time.Time) bool {
	e, known := r.jobs[n.ID]
	if !known {
		e = new(nodeEntry)
		r.jobs[n.ID] = e
	}
	moved := !known || e.info.RPCAddr != n.RPCAddr || e.info.Offline != n.Offline
	e.info = cloneNode(*n)
	e.seen.Store(now.UnixNano())
	if moved {
		r.snapJobsLocked()
	}
	return known
}

// expireLocked drops every node silent for longer than ttl.
func (r *registry) expireLocked(now time.Time) {
	dead := now.Add(-r.ttl).UnixNano()
	left := false
	for id, e := range r.comets {
		if e.seen.Load() < dead {
			r.subRoomsLocked(e.rooms)
			delete(r.comets, id)
			left = true
		}
	}
	if left {
		r.snapCometsLocked()
	}
	gone := false
	for id, e := range r.jobs {
		if e.seen.Load() < dead {
			delete(r.jobs, id)
			gone = true
		}
	}
	if gone {
		r.snapJobsLocked()
	}
}

// subRoomsLocked takes a comet's counts out of the cluster totals.
func (r *registry) subRoomsLocked(rooms map[string]int32) {
	for room, c := range rooms {
		if v := r.rooms[room] - int64(c); v > 0 {
			r.rooms[room] = v
		} else {
			delete(r.rooms, room)
		}
	}
}

// snapJobsLocked publishes a new job snapshot sorted by id.
func (r *registry) snapJobsLocked() {
	refs := make([]jobRef, 0, len(r.jobs))
	for id, e := range r.jobs {
		if e.info.Offline {
			continue // a job going down takes no new pushes
		}
		refs = append(refs, jobRef{id: id, hash: xxhash.Sum64String(id), info: e.info, entry: e})
	}
	slices.SortFunc(refs, func(a, b jobRef) int { return strings.Compare(a.id, b.id) })
	r.jobSnap.Store(&refs)
}

// snapCometsLocked publishes a new comet snapshot.
func (r *registry) snapCometsLocked() {
	m := maps.Clone(r.comets)
	r.cometSnap.Store(&m)
}

// cometLive reports whether comet id reported within ttl before now. It
// takes no lock.
func (r *registry) cometLive(id string, now time.Time) bool {
	e := (*r.cometSnap.Load())[id]
	return e != nil && e.seen.Load() >= now.Add(-r.ttl).UnixNano()
}

// pickJob chooses the live job for routing key s by rendezvous hashing:
// the same s goes to the same job while that job lives, and a job joining
// or leaving moves only the keys it wins or held. Jobs marked down by
// jobDown, and not heard from since, are skipped: their keys go to the
// next job in rendezvous order. It takes no lock.
func (r *registry) pickJob(s string, now time.Time) (jobRef, bool) {
	dead := now.Add(-r.ttl).UnixNano()
	h := xxhash.Sum64String(s)
	var best jobRef
	var bestScore uint64
	found := false
	for _, j := range *r.jobSnap.Load() {
		if seen := j.entry.seen.Load(); seen < dead || j.entry.down.Load() >= seen {
			continue
		}
		if score := mix64(h ^ j.hash); !found || score > bestScore {
			best, bestScore, found = j, score, true
		}
	}
	return best, found
}

// jobDown marks job j as unreachable at now: pickJob skips it until it
// reports again (its next report is later than now). It takes no lock.
func (r *registry) jobDown(j *jobRef, now time.Time) {
	j.entry.down.Store(now.UnixNano())
}

// liveJobIDs returns the ids of the live jobs that are not offline; the
// clients of the others are closed.
func (r *registry) liveJobIDs(now time.Time) map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(now)
	ids := make(map[string]bool, len(r.jobs))
	for id, e := range r.jobs {
		if !e.info.Offline {
			ids[id] = true
		}
	}
	return ids
}

// nodes returns the live nodes of kind ("" for all), sorted by kind and id.
func (r *registry) nodes(kind string, now time.Time) []logicrpc.NodeInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(now)
	var out []logicrpc.NodeInfo
	if kind == "" || kind == logicrpc.KindComet {
		out = appendNodes(out, r.comets)
	}
	if kind == "" || kind == logicrpc.KindJob {
		out = appendNodes(out, r.jobs)
	}
	return out
}

// appendNodes appends copies of the nodes of m sorted by id.
func appendNodes(out []logicrpc.NodeInfo, m map[string]*nodeEntry) []logicrpc.NodeInfo {
	for _, id := range slices.Sorted(maps.Keys(m)) {
		out = append(out, cloneNode(m[id].info))
	}
	return out
}

// cometCount returns the number of live comets.
func (r *registry) cometCount(now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(now)
	return len(r.comets)
}

// registryCounts are the sizes of the registry, for Stats.
type registryCounts struct {
	comets      int // live comets
	jobs        int // live jobs taking pushes
	jobsOffline int // live jobs reporting Offline
	rooms       int // rooms with connections on live comets
}

// counts returns the sizes of the registry at now.
func (r *registry) counts(now time.Time) registryCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(now)
	c := registryCounts{comets: len(r.comets), rooms: len(r.rooms)}
	for _, e := range r.jobs {
		if e.info.Offline {
			c.jobsOffline++
		} else {
			c.jobs++
		}
	}
	return c
}

// cloneNode copies n so that the registry owns its slices.
func cloneNode(n logicrpc.NodeInfo) logicrpc.NodeInfo {
	n.Addrs = slices.Clone(n.Addrs)
	return n
}

// clamp32 converts a sum to int32, saturating.
func clamp32(v int64) int32 {
	switch {
	case v > math.MaxInt32:
		return math.MaxInt32
	case v < 0:
		return 0
	}
	return int32(v)
}
