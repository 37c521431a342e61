package logic

import (
	"context"
	"fmt"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
)

// nodeStore is where node reports go. Every read of the registry (push
// routing, online counts, node lists) is answered by the local registry;
// a nodeStore keeps that registry up to date: the memory store writes
// reports straight into it, the Redis store writes them to Redis and
// reloads the local registry from Redis as a snapshot.
type nodeStore interface {
	// report records a node's report.
	report(ctx context.Context, req *logicrpc.ReportReq, now time.Time) (reportResult, error)
	// picked records that the balancer sent a new client to comet id.
	picked(ctx context.Context, id string)
	// refresh reloads the local registry from the shared store, if any.
	refresh(ctx context.Context, now time.Time) error
	// err returns why the last refresh failed, nil if it did not.
	err() error
}

// reportResult is what a nodeStore answers to a report.
type reportResult struct {
	known  bool             // the node was live before
	counts map[string]int32 // comets: cluster-wide counts of the rooms reported
	epoch  int64            // the store's epoch; 0: the process's
}

// memoryNodes is the nodeStore of a single logic node: the registry
// itself.
type memoryNodes struct{ reg *registry }

func (m memoryNodes) report(_ context.Context, req *logicrpc.ReportReq, now time.Time) (reportResult, error) {
	known, counts, err := m.reg.report(req, now)
	return reportResult{known: known, counts: counts}, err
}

func (memoryNodes) picked(context.Context, string) {}

func (memoryNodes) refresh(context.Context, time.Time) error { return nil }

func (memoryNodes) err() error { return nil }

// storedNode is a node as a shared store holds it.
type storedNode struct {
	info  logicrpc.NodeInfo
	seen  int64            // unix nanoseconds of the last report
	rooms map[string]int32 // comets: room id -> connections (> 0)
	picks int64            // comets: balancer picks since the last report
}

// load replaces the registry's nodes and room counts by nodes, the shared
// store's view at now. Entries of nodes already known are updated in
// place, so the lock-free snapshots stay valid; the snapshots are
// republished when the set of comets, or the set, addresses or offline
// flags of jobs, changed.
func (r *registry) load(nodes []storedNode, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	comets := make(map[string]*nodeEntry, len(r.comets))
	jobs := make(map[string]*nodeEntry, len(r.jobs))
	cometsChanged, jobsChanged := false, false
	for i := range nodes {
		n := &nodes[i]
		switch n.info.Kind {
		case logicrpc.KindComet:
			e := r.comets[n.info.ID]
			if e == nil {
				e = new(nodeEntry)
				cometsChanged = true
			}
			e.info, e.rooms, e.picks = n.info, n.rooms, n.picks
			e.seen.Store(n.seen)
			comets[n.info.ID] = e
		case logicrpc.KindJob:
			e := r.jobs[n.info.ID]
			if e == nil || e.info.RPCAddr != n.info.RPCAddr || e.info.Offline != n.info.Offline {
				jobsChanged = true
			}
			if e == nil {
				e = new(nodeEntry)
			}
			e.info = n.info
			e.seen.Store(n.seen)
			jobs[n.info.ID] = e
		}
	}
	cometsChanged = cometsChanged || len(comets) != len(r.comets)
	jobsChanged = jobsChanged || len(jobs) != len(r.jobs)
	r.comets, r.jobs = comets, jobs
	clear(r.rooms)
	for _, e := range comets {
		for room, c := range e.rooms {
			r.rooms[room] += int64(c)
		}
	}
	if cometsChanged {
		r.snapCometsLocked()
	}
	if jobsChanged {
		r.snapJobsLocked()
	}
	r.expireLocked(now)
}

// roomCounts returns the cluster-wide count of each room of rooms.
func (r *registry) roomCounts(rooms map[string]int32) map[string]int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int32, len(rooms))
	for room := range rooms {
		out[room] = clamp32(r.rooms[room])
	}
	return out
}

// validateNode checks a report's node id and kind.
func validateNode(n *logicrpc.NodeInfo) error {
	if n.ID == "" {
		return fmt.Errorf("%w: empty id", logicrpc.ErrBadNode)
	}
	if n.Kind != logicrpc.KindComet && n.Kind != logicrpc.KindJob {
		return fmt.Errorf("%w: unknown kind %q", logicrpc.ErrBadNode, n.Kind)
	}
	return nil
}
