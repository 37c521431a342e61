package comet

import (
	"context"
	"sync"

	"github.com/goimx/goim/logic/logicrpc"
)

// disconnectWorkers is how many goroutines tell logic of closed
// connections at once.
const disconnectWorkers = 32

// disconnects tells logic of closed connections from a few goroutines of
// its own, so that a connection's goroutine ends as soon as it closed
// instead of waiting for logic's answer: when many clients drop at once
// (a network cut, a restarted proxy) each costs a queued request of a
// few dozen bytes until logic hears of it, not a goroutine and its stack.
// Requests carry the connection id, so a late one never removes a newer
// session of the same key.
type disconnects struct {
	cm *Comet // its logic and call deadlines

	mu     sync.Mutex // guards queue, head, busy and closed
	cond   *sync.Cond // on mu: the queue grew, a call ended, or closed
	queue  []logicrpc.DisconnectReq
	head   int  // queue[head:] waits
	busy   int  // requests being sent
	closed bool // stop was called: workers end once the queue is empty

	wg sync.WaitGroup // the workers
}

// newDisconnects starts the workers sending to cm's logic.
func newDisconnects(cm *Comet) *disconnects {
	d := &disconnects{cm: cm}
	d.cond = sync.NewCond(&d.mu)
	for range disconnectWorkers {
		d.wg.Add(1)
		go d.work()
	}
	return d
}

// add queues req. After stop it is dropped: the comet is gone and
// logic's node expiry removes its sessions.
func (d *disconnects) add(req logicrpc.DisconnectReq) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.queue = append(d.queue, req)
	d.cond.Signal()
}

// work sends queued requests until stop and an empty queue.
func (d *disconnects) work() {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		for d.head == len(d.queue) && !d.closed {
			d.cond.Wait()
		}
		if d.head == len(d.queue) {
			d.mu.Unlock()
			return
		}
		req := d.queue[d.head]
		d.queue[d.head] = logicrpc.DisconnectReq{} // drop its key for the collector
		d.head++
		if d.head == len(d.queue) {
			d.resetLocked()
		}
		d.busy++
		d.mu.Unlock()
		// A failure is not retried: the session then lives until logic's
		// sessions of this node expire or the key reconnects.
		_, _ = d.cm.logic.Disconnect(d.cm.calls.get(), &req)
		d.mu.Lock()
		d.busy--
		d.cond.Broadcast() // for wait
		d.mu.Unlock()
	}
}

// resetLocked empties the drained queue, releasing a large array (a mass
// close) rather than keeping it.
func (d *disconnects) resetLocked() {
	if cap(d.queue) > 1024 {
		d.queue = nil
	} else {
		d.queue = d.queue[:0]
	}
	d.head = 0
}

// wait waits until every queued request was sent, or ctx ends.
func (d *disconnects) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.mu.Lock()
		defer d.mu.Unlock()
		for d.head < len(d.queue) || d.busy > 0 {
			d.cond.Wait()
		}
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop makes the workers end once the queue is empty and waits for them;
// cancel the calls' context first for them not to wait on logic.
func (d *disconnects) stop() {
	d.mu.Lock()
	d.closed = true
	d.cond.Broadcast()
	d.mu.Unlock()
	d.wg.Wait()
}
