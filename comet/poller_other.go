//go:build !linux

package comet

import (
	"errors"
)

// errNoPoller is returned by arm where connections cannot be parked.
var errNoPoller = errors.New("comet: no poller on this platform")

// poller stands for the Linux epoll poller: elsewhere every connection
// keeps its reader goroutine and no poller exists.
type poller struct{}

func (p *poller) run() error           { return nil }
func (p *poller) stopWait()            {}
func (p *poller) arm(*conn, int) error { return errNoPoller }
func (p *poller) control(*conn) error  { return errNoPoller }
func (p *poller) forget(*conn)         {}

// pollers is the set of pollers of a comet: none on this platform.
type pollers struct {
	ps []*poller
}

// newPollers returns nil: connections cannot be parked here.
func newPollers(int) (*pollers, error) { return nil, nil }

// of is never called: newPollers returns nil.
func (s *pollers) of(uint64) *poller { return nil }
