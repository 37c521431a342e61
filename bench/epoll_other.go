//go:build !linux

package bench

import "sync/atomic"

// rawConn stands in for the Linux epoll reader's connection.
type rawConn struct {
	fd   int
	ws   bool
	dead atomic.Bool
}

// epollReaders stands in for the Linux epoll workers.
type epollReaders struct{}

func (e *epollReaders) close() {}

// newEpoll reports that the epoll reader is not available here.
func (f *Fleet) newEpoll() error { return ErrNoEpoll }

// dialEpoll is never called: Connect fails first.
func (f *Fleet) dialEpoll(int, string, string) (*member, error) { return nil, ErrNoEpoll }
