package logic

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goimx/goim/rpc"
)

// ErrNotReady is wrapped by the errors of Ready.
var ErrNotReady = errors.New("logic: not ready")

// readyStoreTimeout bounds the store check of Ready.
const readyStoreTimeout = time.Second

// storePinger is implemented by session stores that can check they are
// reachable (the Redis store).
type storePinger interface {
	ping(ctx context.Context) error
}

func (s *redisStore) ping(ctx context.Context) error { return s.c.ping(ctx, readyStoreTimeout) }

// Ready reports whether this node can serve pushes: its session store
// answers (a Redis PING, bounded by a second), its node registry is
// loaded (the last Redis refresh worked) and at least one live job
// takes pushes. A nil error means ready; otherwise the error wraps
// ErrNotReady and says why. It makes one round trip to Redis: call it
// from a readiness probe, not per request.
func (l *Logic) Ready(ctx context.Context) error {
	if p, ok := l.sessions.(storePinger); ok {
		if err := p.ping(ctx); err != nil {
			return fmt.Errorf("%w: session store: %w", ErrNotReady, err)
		}
	}
	if err := l.nodes.err(); err != nil {
		return fmt.Errorf("%w: node registry: %w", ErrNotReady, err)
	}
	if len(l.reg.liveJobIDs(l.cfg.Now())) == 0 {
		return fmt.Errorf("%w: no job node takes pushes", ErrNotReady)
	}
	return nil
}

// JobLink is the state of logic's link to one job node.
type JobLink struct {
	ID        string
	Addr      string // the job's RPC address
	Connected bool   // the RPC connection is up (always true for a job in process)
}

// rpcLinked is implemented by services reached over the RPC
// (jobrpc.Client).
type rpcLinked interface{ RPC() *rpc.Client }

// links returns the state of every job service in the pool, by ID.
func (p *jobPool) links() []JobLink {
	p.mu.RLock()
	var out []JobLink
	for id, c := range p.conns {
		up := true
		if l, ok := c.svc.(rpcLinked); ok {
			up = l.RPC().Stats().Connected
		}
		out = append(out, JobLink{ID: id, Addr: c.addr, Connected: up})
	}
	p.mu.RUnlock()
	slices.SortFunc(out, func(a, b JobLink) int { return strings.Compare(a.ID, b.ID) })
	return out
}
