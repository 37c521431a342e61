package comet

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Shutdown stops the comet gracefully: it stops accepting, lets the RPC
// service finish its running calls, closes every client connection
// (WebSocket clients get a 1001 close frame) and waits until each one has
// left its room and bucket and logic has been told (Disconnect). When ctx
// ends first, pending logic calls are cancelled and Shutdown returns
// ctx.Err() once the connections are gone. Then it stops the room
// workers, the report loop and the timers. Calling it again, or after
// Close, is harmless.
func (cm *Comet) Shutdown(ctx context.Context) error {
	err := cm.beginClose()
	if rerr := cm.rpc.Shutdown(ctx); rerr != nil && err == nil {
		err = rerr
	}
	cm.closeConns(true)
	if werr := cm.waitConns(ctx); werr != nil {
		err = werr
	}
	if werr := cm.disc.wait(ctx); werr != nil && err == nil {
		err = werr
	}
	cm.stopBackground()
	return err
}

// Close stops the comet at once: it closes the listeners and every
// connection without close frames, cancels pending logic calls (so
// logic may not hear of every Disconnect), and stops the workers, the
// report loop and the timers. It returns when every goroutine of the
// comet has ended.
func (cm *Comet) Close() error {
	err := cm.beginClose()
	cm.cancel()
	if rerr := cm.rpc.Close(); rerr != nil && err == nil {
		err = rerr
	}
	cm.closeConns(false)
	cm.wg.Wait()
	cm.stopBackground()
	return err
}

// beginClose marks the comet closing and closes its listeners. It
// returns the first error closing one.
func (cm *Comet) beginClose() error {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	cm.closing.Store(true)
	var err error
	for ln := range cm.listeners {
		if cerr := ln.Close(); cerr != nil && err == nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
		delete(cm.listeners, ln)
	}
	return err
}

// closeConns closes every connection, bucket by bucket in parallel;
// graceful sends authenticated WebSocket clients a close frame first,
// after giving all of a bucket's connections one common write deadline so
// that stuck clients cost closeFrameTimeout once, not each. Connections
// that register later see the closing flag and close themselves.
func (cm *Comet) closeConns(graceful bool) {
	var wg sync.WaitGroup
	for _, b := range cm.buckets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			authed, pending := b.snapshot()
			for _, c := range pending {
				c.close(CloseShutdown) // c.ws may still be being set up
			}
			if !graceful {
				for _, c := range authed {
					c.close(CloseShutdown)
				}
				return
			}
			deadline := time.Now().Add(closeFrameTimeout)
			for _, c := range authed {
				_ = c.nc.SetWriteDeadline(deadline)
			}
			for _, c := range authed {
				c.closeWithFrame(CloseShutdown, time.Time{})
			}
		}()
	}
	wg.Wait()
}

// waitConns waits for the connection goroutines; if ctx ends first it
// cancels pending logic calls, waits again and returns ctx.Err().
func (cm *Comet) waitConns(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		cm.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		cm.cancel()
		<-done
		return ctx.Err()
	}
}

// stopBackground stops the room workers, the report loop (cancelling a
// report in progress: the connections are gone, no logic call is left
// worth waiting for), paced broadcasts and the timers, and waits for them.
// It runs once.
func (cm *Comet) stopBackground() {
	cm.mu.Lock()
	first := !cm.stopped
	cm.stopped = true
	cm.mu.Unlock()
	if first {
		close(cm.done)
		cm.stopPollers()
	}
	cm.cancel()
	cm.disc.stop() // the calls left fail at once: ctx is cancelled
	cm.bg.Wait()
	cm.timers.Stop()
}
