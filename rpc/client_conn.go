package rpc

import (
	"bufio"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// call is one pending Call. It is pooled by the Client.
type call struct {
	done  chan struct{} // capacity 1: receives one value when the call is complete
	reply []byte        // the caller's buffer; the read loop appends the reply to it
	err   error
}

// clientConn is one connection of a Client. Its read loop completes the
// pending calls; whoever removes a call from pending (the read loop, fail,
// or a caller giving up) owns it from then on.
type clientConn struct {
	c    *Client
	conn net.Conn
	fr   frameReader
	w    *connWriter
	made time.Time // when the connection was made

	mu      sync.Mutex // guards pending, err and pinger
	pending map[uint32]*call
	err     error       // set once, when the connection became unusable
	pinger  *time.Timer // the next keepalive check; stopped by fail

	framesIn     atomic.Uint64
	lateReplies  atomic.Uint64
	onewayErrors atomic.Uint64
	pingFrames   atomic.Uint64 // frames queued at the last keepalive check
}

func newClientConn(c *Client, nc net.Conn) *clientConn {
	cc := &clientConn{
		c:       c,
		conn:    nc,
		fr:      frameReader{r: bufio.NewReaderSize(nc, readBufferSize), maxFrame: c.cfg.MaxFrameSize},
		w:       newConnWriter(nc, c.cfg.WriteTimeout),
		made:    time.Now(),
		pending: make(map[uint32]*call),
	}
	cc.startPinger()
	return cc
}

// register adds cl as pending under the next seq of counter that no
// pending call holds (after a wraparound a call may still hold one), and
// returns that seq, or why the connection is unusable.
func (cc *clientConn) register(counter *atomic.Uint32, cl *call) (uint32, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.err != nil {
		return 0, cc.err
	}
	for {
		seq := counter.Add(1)
		if _, busy := cc.pending[seq]; !busy {
			cc.pending[seq] = cl
			return seq, nil
		}
	}
}

// unregister removes the call under seq and reports whether it was still
// pending (and so now belongs to the caller).
func (cc *clientConn) unregister(seq uint32) bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if _, ok := cc.pending[seq]; !ok {
		return false
	}
	delete(cc.pending, seq)
	return true
}

// readLoop completes calls with the replies read, until the connection
// fails; then it fails the calls left and tells the client.
func (cc *clientConn) readLoop() {
	defer cc.c.wg.Done()
	err := cc.read()
	cc.fail(fmt.Errorf("%w: %w", ErrConnLost, err))
	cc.c.connLost(cc, err)
}

func (cc *clientConn) read() error {
	for {
		h, p, err := cc.fr.next()
		if err != nil {
			return err
		}
		cc.framesIn.Add(1)
		switch h.kind {
		case KindReply, KindError:
			if err := cc.complete(h, p); err != nil {
				return err
			}
		case KindOnewayError:
			if err := cc.onewayFailed(h, p); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: kind %d sent to a client", ErrMalformedFrame, h.kind)
		}
	}
}

// onewayFailed counts a one-way message the server reports as failed and
// passes it to the configured OnewayError.
func (cc *clientConn) onewayFailed(h header, p []byte) error {
	re, err := parseErrorPayload(h.method, p)
	if err != nil {
		return err
	}
	cc.onewayErrors.Add(1)
	if fn := cc.c.cfg.OnewayError; fn != nil {
		fn(h.method, h.seq, re)
	}
	return nil
}

// complete hands a reply or error frame to its call; a reply nobody waits
// for any more is dropped and counted. It fails only for an error frame
// too short to hold its code.
func (cc *clientConn) complete(h header, p []byte) error {
	var re *RemoteError
	if h.kind == KindError {
		var err error
		if re, err = parseErrorPayload(h.method, p); err != nil {
			return err
		}
	}
	cc.mu.Lock()
	cl, ok := cc.pending[h.seq]
	if ok {
		delete(cc.pending, h.seq)
	}
	cc.mu.Unlock()
	if !ok {
		cc.lateReplies.Add(1)
		return nil
	}
	if re != nil {
		cl.err = re
	} else {
		cl.reply = append(cl.reply, p...)
	}
	cl.done <- struct{}{}
	return nil
}

// fail makes the connection unusable with err (the first error wins),
// closes it and fails every pending call with err.
func (cc *clientConn) fail(err error) {
	cc.mu.Lock()
	if cc.err != nil {
		cc.mu.Unlock()
		return
	}
	cc.err = err
	pending := cc.pending
	cc.pending = nil
	if cc.pinger != nil {
		cc.pinger.Stop()
	}
	cc.mu.Unlock()
	cc.conn.Close()
	cc.w.close(err)
	for _, cl := range pending {
		cl.err = err
		cl.done <- struct{}{}
	}
}

// addStats adds the connection's counters to st.
func (cc *clientConn) addStats(st *ClientStats) {
	st.FramesIn += cc.framesIn.Load()
	frames, writes := cc.w.counts()
	st.FramesOut += frames
	st.Writes += writes
	st.LateReplies += cc.lateReplies.Load()
	st.OnewayErrors += cc.onewayErrors.Load()
}
