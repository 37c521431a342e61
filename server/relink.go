package server

import (
	"sync/atomic"

	"github.com/goimx/goim/rpc"
)

// reportOnLink asks a node for a report each time one of its links to
// logic is made: at start, and again whenever a logic node that was down
// or restarted can be reached, so that the node is back in the registry
// at once instead of at its next periodic report.
type reportOnLink struct {
	report atomic.Pointer[func()] // the node's ReportNow, once it exists
}

// config returns cfg with an OnConnect that calls the node's ReportNow
// (once set) and then cfg's own OnConnect, if any.
func (r *reportOnLink) config(cfg rpc.ClientConfig) rpc.ClientConfig {
	next := cfg.OnConnect
	cfg.OnConnect = func() {
		if f := r.report.Load(); f != nil {
			(*f)()
		}
		if next != nil {
			next()
		}
	}
	return cfg
}

// set makes report the function called on each new link.
func (r *reportOnLink) set(report func()) { r.report.Store(&report) }
