package server

import (
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/job"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

// errOwnJobNotReady is returned by the direct DialJob when logic dials
// the node's own job before its Job is made; logic dials again on the
// next push.
var errOwnJobNotReady = errors.New("server: own job not started yet")

// ownJob is a node's own job, as logic's registry sees it.
type ownJob struct {
	id   string
	addr string   // the advertised RPC address
	j    *job.Job // nil until job.New returns
}

// directLinks wires a node's own tiers to each other in process: logic
// first (its DialJob finds the job once it exists), then the comet (given
// the Logic), then the job (given the Logic and the Comet). Nodes of
// other processes that join the same logic are still reached over RPC.
type directLinks struct {
	logic     *logic.Logic
	comet     *comet.Comet
	cometAddr string                 // the comet's advertised RPC address
	job       atomic.Pointer[ownJob] // read by logic's DialJob
	jobClient rpc.ClientConfig       // logic's RPC clients to other jobs
	logger    *slog.Logger
}

// dialJob is logic.Config.DialJob: the own Job for its node id and
// address, an RPC client for any other job.
func (d *directLinks) dialJob(n logicrpc.NodeInfo) (jobrpc.Service, error) {
	if own := d.job.Load(); own != nil && own.id == n.ID && own.addr == n.RPCAddr {
		if own.j == nil {
			return nil, errOwnJobNotReady
		}
		return noCloseJob{own.j}, nil
	}
	return jobrpc.NewClient(n.RPCAddr, d.jobClient, d.logger), nil
}

// dialComet returns job.Config.DialComet: the own Comet for its
// advertised address, an RPC client configured by cfg for any other.
func (d *directLinks) dialComet(cfg rpc.ClientConfig) func(addr string) cometrpc.Service {
	return func(addr string) cometrpc.Service {
		if addr == d.cometAddr && d.comet != nil {
			return noCloseComet{d.comet}
		}
		return cometrpc.NewClient(addr, cfg, d.logger)
	}
}

// noCloseJob hides the Job's Close from logic, which closes the services
// of jobs that leave its registry: the job's life is the node's.
type noCloseJob struct{ jobrpc.LinkedPusher }

// noCloseComet hides the Comet's Close from the job, which closes the
// services of comets that leave its list.
type noCloseComet struct{ cometrpc.Service }
