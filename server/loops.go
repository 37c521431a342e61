package server

import (
	"errors"
	"fmt"
	"sync"
)

// errStopped is what a serve loop that returned nil reports.
var errStopped = errors.New("stopped serving")

// loops runs a tier's serve loops and reports the first that stops on
// its own (not by the tier's Shutdown or Close).
type loops struct {
	wg   sync.WaitGroup
	errc chan error // the first failure (buffered, 1); closed by wait
	once sync.Once  // closes errc
}

func newLoops() *loops { return &loops{errc: make(chan error, 1)} }

// goServe runs serve on a goroutine. An error other than closed (the
// tier's "server closed" error) is sent on errc, named by what, unless
// one was sent before.
func (l *loops) goServe(what string, serve func() error, closed error) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		err := serve()
		if errors.Is(err, closed) {
			return
		}
		if err == nil {
			err = errStopped
		}
		select {
		case l.errc <- fmt.Errorf("%s: %w", what, err):
		default:
		}
	}()
}

// wait waits for every serve loop to return, then closes errc.
func (l *loops) wait() {
	l.wg.Wait()
	l.once.Do(func() { close(l.errc) })
}
