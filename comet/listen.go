package comet

import (
	"errors"
	"net"
	"time"
)

// serve is the accept loop of ServeTCP and ServeWS. A failing Accept is
// retried after a growing delay (5ms to 1s); one connection's failure
// never stops it.
func (cm *Comet) serve(ln net.Listener, ws bool) error {
	defer ln.Close()
	ln, accept, done := cm.socketAccepter(ln)
	defer done()
	if !cm.addListener(ln) {
		return ErrServerClosed
	}
	defer cm.wg.Done()
	defer cm.removeListener(ln)
	var delay time.Duration
	for {
		nc, err := accept()
		if err != nil {
			if cm.closing.Load() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			cm.logger.Warn("comet: accept failed; retrying", "addr", ln.Addr().String(), "err", err, "delay", delay)
			if !cm.sleepUntil(time.Now().Add(delay)) {
				return ErrServerClosed
			}
			continue
		}
		delay = 0
		cm.accepted.Add(1)
		c := newConn(cm, nc)
		cm.wg.Add(1) // this loop holds a count: the counter is not zero
		go c.serve(ws)
	}
}

// addListener records ln for Shutdown and takes a count of cm.wg for its
// accept loop. It reports false once the comet is closing.
func (cm *Comet) addListener(ln net.Listener) bool {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	if cm.closing.Load() {
		return false
	}
	cm.listeners[ln] = struct{}{}
	cm.wg.Add(1)
	return true
}

// removeListener forgets ln.
func (cm *Comet) removeListener(ln net.Listener) {
	cm.mu.Lock()
	delete(cm.listeners, ln)
	cm.mu.Unlock()
}
