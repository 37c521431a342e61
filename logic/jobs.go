package logic

import (
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
)

// jobConn is the service used to reach one job node.
type jobConn struct {
	addr string
	svc  jobrpc.Service
}

// jobPool keeps one service per live job node: created on first use,
// replaced when the node's address changes, closed when the node leaves.
type jobPool struct {
	dial func(node logicrpc.NodeInfo) (jobrpc.Service, error)
	log  *slog.Logger

	mu     sync.RWMutex        // guards conns and closed
	conns  map[string]*jobConn // job id -> service
	closed bool
}

func newJobPool(dial func(logicrpc.NodeInfo) (jobrpc.Service, error), log *slog.Logger) *jobPool {
	return &jobPool{dial: dial, log: log, conns: make(map[string]*jobConn)}
}

// get returns the service of job j, dialing it if needed.
func (p *jobPool) get(j *jobRef) (jobrpc.Service, error) {
	p.mu.RLock()
	c := p.conns[j.id]
	closed := p.closed
	p.mu.RUnlock()
	if closed {
		return nil, ErrServerClosed
	}
	if c != nil && c.addr == j.info.RPCAddr {
		return c.svc, nil
	}
	return p.dialJob(j)
}

// dialJob creates the service of job j unless another caller did.
func (p *jobPool) dialJob(j *jobRef) (jobrpc.Service, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrServerClosed
	}
	old := p.conns[j.id]
	if old != nil && old.addr == j.info.RPCAddr {
		return old.svc, nil
	}
	svc, err := p.dial(j.info)
	if err != nil {
		return nil, fmt.Errorf("logic: dial job %s at %s: %w", j.id, j.info.RPCAddr, err)
	}
	p.conns[j.id] = &jobConn{addr: j.info.RPCAddr, svc: svc}
	if old != nil {
		p.closeConn(j.id, old)
	}
	return svc, nil
}

// retain closes the services of the jobs not in live.
func (p *jobPool) retain(live map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, c := range p.conns {
		if !live[id] {
			delete(p.conns, id)
			p.closeConn(id, c)
		}
	}
}

// close closes every service; later gets fail with ErrServerClosed.
func (p *jobPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for id, c := range p.conns {
		delete(p.conns, id)
		p.closeConn(id, c)
	}
}

// closeConn closes c's service if it is an io.Closer.
func (p *jobPool) closeConn(id string, c *jobConn) {
	cl, ok := c.svc.(io.Closer)
	if !ok {
		return
	}
	if err := cl.Close(); err != nil {
		p.log.Debug("logic: close job client", "job", id, "err", err)
	}
}
