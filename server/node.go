package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
)

// Node is a whole node running in one process: logic, one comet and one
// job, linked over loopback RPC or in process (Config.Links).
type Node struct {
	logic *LogicNode
	comet *CometNode
	job   *JobNode
	links Links
}

// Start starts a whole node: logic, then the comet and the job, each
// reaching this logic (on the loopback address when its RPC listener's
// host is unspecified), and each advertising its RPC listener on the
// loopback address when its host is unspecified. If a tier fails to
// start, those started are closed. A nil logger means slog.Default().
func Start(cfg Config, logger *slog.Logger) (*Node, error) {
	logger = cmp.Or(logger, slog.Default())
	var d *directLinks
	switch cfg.Links {
	case "", LinksRPC:
		cfg.Links = LinksRPC
	case LinksDirect:
		d = &directLinks{}
	default:
		return nil, fmt.Errorf("server: links %q is not %s or %s", cfg.Links, LinksRPC, LinksDirect)
	}
	cc, err := cfg.Comet.withDefaults()
	if err != nil {
		return nil, err
	}
	followCometPorts(&cfg.Logic, &cc)
	n := &Node{links: cfg.Links}
	obs := &observed{} // logic's HTTP port reports the whole node
	if n.logic, err = startLogic(cfg.Logic, logger, d, obs); err != nil {
		return nil, err
	}
	logicAddr := advertise(n.logic.RPCAddr(), true)
	cc.LogicAddr = logicAddr
	if n.comet, err = startComet(cc, logger, true, d, obs); err != nil {
		n.Close()
		return nil, err
	}
	cfg.Job.LogicAddr = logicAddr
	if n.job, err = startJob(cfg.Job, logger, true, d, obs); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// followCometPorts sets logic's advertised client ports that are zero to
// the ports of the comet's listen addresses (c with its defaults applied):
// -1 (not offered, advertised as 0) where the comet has no such listener,
// and none where an address has no fixed port (logic's default then
// stays).
func followCometPorts(l *LogicConfig, c *CometConfig) {
	tcp := NoListen
	for _, a := range c.TCPAddrs {
		if a != NoListen {
			tcp = a
			break
		}
	}
	lc := &l.Logic
	for _, p := range []struct {
		port *int
		addr string
	}{{&lc.TCPPort, tcp}, {&lc.WSPort, c.WSAddr}, {&lc.WSSPort, c.WSSAddr}} {
		switch {
		case *p.port != 0:
		case p.addr == "" || p.addr == NoListen:
			*p.port = -1
		default:
			*p.port = portOfAddr(p.addr)
		}
	}
}

// Logic returns the node's logic tier.
func (n *Node) Logic() *LogicNode { return n.logic }

// Comet returns the node's comet tier.
func (n *Node) Comet() *CometNode { return n.comet }

// Job returns the node's job tier.
func (n *Node) Job() *JobNode { return n.job }

// Links returns how the node's tiers reach each other.
func (n *Node) Links() Links { return n.links }

// ErrNotReady is returned by WaitReady when the tiers did not find each
// other in time.
var ErrNotReady = errors.New("server: node not ready")

// WaitReady waits until logic lists the comet and the job and the job
// knows the comet, so that a push reaches the comet's clients; it polls
// every 10ms. It returns an error wrapping ErrNotReady when ctx ends
// first.
func (n *Node) WaitReady(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !n.ready(ctx) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrNotReady, context.Cause(ctx))
		case <-t.C:
		}
	}
	return nil
}

// ready reports whether the tiers know each other.
func (n *Node) ready(ctx context.Context) bool {
	for _, kind := range []string{logicrpc.KindComet, logicrpc.KindJob} {
		rep, err := n.logic.Logic().Nodes(ctx, &logicrpc.NodesReq{Kind: kind})
		if err != nil || len(rep.Nodes) == 0 {
			return false
		}
	}
	return len(n.job.Job().Stats().Comets) > 0
}

// Shutdown stops the node gracefully, bounded by ctx: the job (its
// queues drain to the comet), then the comet (its clients are closed and
// logic told), then logic. A tier whose graceful stop fails is closed.
// It returns the first error.
func (n *Node) Shutdown(ctx context.Context) error {
	var first error
	for _, t := range n.tiers() {
		err := t.Shutdown(ctx)
		if err != nil {
			t.Close()
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// Close stops the node at once, job first, and returns the first error.
func (n *Node) Close() error {
	var first error
	for _, t := range n.tiers() {
		if err := t.Close(); first == nil {
			first = err
		}
	}
	return first
}

// tier is what Shutdown and Close drive.
type tier interface {
	Shutdown(ctx context.Context) error
	Close() error
}

// tiers returns the started tiers in stopping order: job, comet, logic.
func (n *Node) tiers() []tier {
	var ts []tier
	if n.job != nil {
		ts = append(ts, n.job)
	}
	if n.comet != nil {
		ts = append(ts, n.comet)
	}
	if n.logic != nil {
		ts = append(ts, n.logic)
	}
	return ts
}
