package server

import (
	"errors"
	"io"
	"testing"

	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/job"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/rpc"
)

// TestDirectLinks: the direct links give the process's own comet and job
// (without their Close, so that a node leaving a registry cannot close
// them) and RPC clients for every other node.
func TestDirectLinks(t *testing.T) {
	cm, j := new(comet.Comet), new(job.Job) // identities only: never called
	d := &directLinks{comet: cm, cometAddr: "127.0.0.1:3109"}
	dialComet := d.dialComet(rpc.ClientConfig{})
	if svc, ok := dialComet("127.0.0.1:3109").(noCloseComet); !ok || svc.Service != cm {
		t.Errorf("own comet: got %T", dialComet("127.0.0.1:3109"))
	}
	other := dialComet("127.0.0.1:4109")
	if c, ok := other.(*cometrpc.Client); !ok {
		t.Errorf("other comet: got %T, want *cometrpc.Client", other)
	} else {
		c.Close()
	}

	own := logicrpc.NodeInfo{ID: "job-1", RPCAddr: "127.0.0.1:3129"}
	d.job.Store(&ownJob{id: own.ID, addr: own.RPCAddr})
	if _, err := d.dialJob(own); !errors.Is(err, errOwnJobNotReady) {
		t.Errorf("own job before it is made: %v, want %v", err, errOwnJobNotReady)
	}
	d.job.Store(&ownJob{id: own.ID, addr: own.RPCAddr, j: j})
	if svc, err := d.dialJob(own); err != nil || svc.(noCloseJob).LinkedPusher != j {
		t.Errorf("own job: %T, %v", svc, err)
	}
	for _, n := range []logicrpc.NodeInfo{{ID: "job-2", RPCAddr: "127.0.0.1:4129"}, {ID: "job-1", RPCAddr: "127.0.0.1:4129"}} {
		svc, err := d.dialJob(n)
		c, ok := svc.(*jobrpc.Client)
		if err != nil || !ok {
			t.Errorf("job %v: %T, %v; want *jobrpc.Client", n, svc, err)
			continue
		}
		c.Close()
	}
	var s any = noCloseComet{cm}
	if _, ok := s.(io.Closer); ok {
		t.Error("noCloseComet has Close")
	}
	s = noCloseJob{j}
	if _, ok := s.(io.Closer); ok {
		t.Error("noCloseJob has Close")
	}
}
