package rpc

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"time"
)

const (
	// maxQueued is how many bytes may wait behind a write in progress
	// before writers block (bounded by their context) for room.
	maxQueued = 4 << 20
	// maxSpare is the largest queue buffer a connWriter keeps while idle;
	// bigger ones, grown under load, are let go after idleRelease without
	// a batch from the loop, or at once after a direct write.
	maxSpare = 256 << 10
	// idleRelease is how long an idle loop keeps buffers over maxSpare.
	idleRelease = time.Second
)

// connWriter batches frames written by many goroutines onto one connection.
//
// A call or reply that finds no write in progress is written on its
// caller's goroutine: no hand-off latency on an idle connection. Before it
// writes, the caller yields the processor once (runtime.Gosched), with the
// flush marked as its own: goroutines that are ready to run (concurrent
// callers woken by their replies, workers about to reply) queue their
// frames meanwhile, and the one write carries them all. On an idle machine
// the yield returns at once; under load it turns one write per call into
// one write per handful of calls (BenchmarkCallParallel reports the ratio,
// calls/write). A
// one-way frame is handed to the loop goroutine instead, so that a sender
// making frames back to back gets them batched. Frames queued while a write
// is in progress wait in buf; when that write is done its writer hands the
// flush to the loop goroutine, which writes whatever has accumulated, again
// and again, until nothing is queued ("hungry flush"). So under load each
// write carries many frames, and no caller makes more than one write.
//
// Frames are copied into the queue, so callers may reuse their payload as
// soon as writeFrame returns. Frames queued by one goroutine go out in the
// order it queued them.
type connWriter struct {
	conn    net.Conn
	timeout time.Duration // deadline for writing one batch; 0: none
	kick    chan struct{} // capacity 1: hands the flush to loop
	stop    chan struct{} // closed by close: loop returns

	mu       sync.Mutex    // guards the fields below
	buf      []byte        // frames queued and not yet being written
	spare    []byte        // an empty buffer to swap in for buf
	flushing bool          // a batch is being written, by a caller or by loop
	err      error         // sticky: why no more frames are taken
	space    chan struct{} // closed when buf is taken; made by a writer waiting for room
	idle     chan struct{} // closed when flushing ends or err is set; made by waitIdle
	frames   uint64        // frames queued so far
	writes   uint64        // batches written so far (each one write to the connection)
}

func newConnWriter(conn net.Conn, timeout time.Duration) *connWriter {
	return &connWriter{
		conn:    conn,
		timeout: timeout,
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
}

// writeFrame queues one frame. While more than maxQueued bytes wait behind
// a write in progress it blocks, bounded by ctx, for room. When no write is
// in progress and direct is set, it writes the queue itself before it
// returns (lowest latency for a lone call or reply; this may block up to the
// writer's timeout); without direct it hands the write to the loop
// goroutine, so that a goroutine sending frames back to back has them
// batched. It returns the writer's sticky error (wrapping ErrConnLost after
// a failed write) once the connection is unusable.
func (w *connWriter) writeFrame(ctx context.Context, h header, payload []byte, direct bool) error {
	need := frameHead + len(payload)
	w.mu.Lock()
	for w.err == nil && len(w.buf) > 0 && len(w.buf)+need > maxQueued {
		if err := w.waitRoomLocked(ctx); err != nil {
			w.mu.Unlock()
			return err
		}
	}
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	if cap(w.buf)-len(w.buf) < need {
		w.growLocked(need)
	}
	w.buf = appendFrame(w.buf, h, payload)
	w.frames++
	if w.flushing {
		w.mu.Unlock()
		return nil
	}
	w.flushing = true
	if !direct {
		w.kick <- struct{}{} // never blocks: the kick is consumed before flushing ends
		w.mu.Unlock()
		return nil
	}
	w.mu.Unlock()
	runtime.Gosched() // let ready writers join this write (see connWriter)
	w.mu.Lock()
	batch := w.takeLocked()
	w.mu.Unlock()

	werr := w.writeBatch(batch)

	w.mu.Lock()
	w.batchDoneLocked(batch, werr)
	if w.err == nil && len(w.buf) > 0 {
		w.kick <- struct{}{} // never blocks: only the flush owner kicks, and the loop consumed the last kick before flushing ended
	} else {
		w.endFlushLocked()
		w.releaseBigLocked()
	}
	err := w.err
	w.mu.Unlock()
	if werr != nil {
		return err
	}
	return nil
}

// growLocked makes room for need more bytes in buf, doubling its capacity
// (append grows big slices by only a quarter, which under load would copy
// the queue again and again).
func (w *connWriter) growLocked(need int) {
	nb := make([]byte, len(w.buf), max(2*cap(w.buf), len(w.buf)+need, 4096))
	copy(nb, w.buf)
	w.buf = nb
}

// waitRoomLocked releases mu until the queue is taken or ctx is done.
func (w *connWriter) waitRoomLocked(ctx context.Context) error {
	if w.space == nil {
		w.space = make(chan struct{})
	}
	ch := w.space
	w.mu.Unlock()
	var err error
	select {
	case <-ch:
	case <-ctx.Done():
		err = ctx.Err()
	}
	w.mu.Lock()
	return err
}

// takeLocked returns the queue for writing and starts an empty one.
func (w *connWriter) takeLocked() []byte {
	batch := w.buf
	w.buf, w.spare = w.spare, nil
	if w.space != nil {
		close(w.space)
		w.space = nil
	}
	return batch
}

// batchDoneLocked records the outcome of writing batch.
func (w *connWriter) batchDoneLocked(batch []byte, err error) {
	if err != nil {
		w.failLocked(fmt.Errorf("%w: write: %w", ErrConnLost, err))
		w.conn.Close() // the read side sees the failure too
		return
	}
	w.writes++
	if w.spare == nil {
		w.spare = batch[:0]
	}
}

// endFlushLocked marks the end of a flush.
func (w *connWriter) endFlushLocked() {
	w.flushing = false
	if w.idle != nil {
		close(w.idle)
		w.idle = nil
	}
}

// failLocked makes err sticky, drops the queue and wakes every waiter.
func (w *connWriter) failLocked(err error) {
	if w.err == nil {
		w.err = err
	}
	w.buf, w.spare = nil, nil
	if w.space != nil {
		close(w.space)
		w.space = nil
	}
	if w.idle != nil {
		close(w.idle)
		w.idle = nil
	}
}

// writeBatch writes b to the connection within the writer's timeout.
func (w *connWriter) writeBatch(b []byte) error {
	if w.timeout > 0 {
		if err := w.conn.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
			return err
		}
	}
	_, err := w.conn.Write(b)
	return err
}

// loop writes the queue whenever a writer hands the flush over, until
// close. Buffers grown under load are let go once it idled idleRelease.
func (w *connWriter) loop() {
	idle := time.NewTimer(idleRelease)
	idle.Stop()
	defer idle.Stop()
	for {
		select {
		case <-w.kick:
			if w.drain() {
				idle.Reset(idleRelease)
			}
		case <-idle.C:
			w.mu.Lock()
			if !w.flushing {
				w.releaseBigLocked()
			}
			w.mu.Unlock()
		case <-w.stop:
			return
		}
	}
}

// drain writes batches until the queue is empty, then ends the flush. It
// reports whether buffers over maxSpare are held.
func (w *connWriter) drain() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.err == nil && len(w.buf) > 0 {
		batch := w.takeLocked()
		w.mu.Unlock()
		err := w.writeBatch(batch)
		w.mu.Lock()
		w.batchDoneLocked(batch, err)
	}
	w.endFlushLocked()
	return cap(w.buf) > maxSpare || cap(w.spare) > maxSpare
}

// releaseBigLocked lets go of queue buffers over maxSpare; the queue must
// be empty (no flush in progress).
func (w *connWriter) releaseBigLocked() {
	if cap(w.spare) > maxSpare {
		w.spare = nil
	}
	if len(w.buf) == 0 && cap(w.buf) > maxSpare {
		w.buf = nil
	}
}

// waitIdle returns once no write is in progress and nothing is queued, or
// the writer failed or was closed.
func (w *connWriter) waitIdle() {
	w.mu.Lock()
	for w.err == nil && w.flushing {
		if w.idle == nil {
			w.idle = make(chan struct{})
		}
		ch := w.idle
		w.mu.Unlock()
		<-ch
		w.mu.Lock()
	}
	w.mu.Unlock()
}

// close makes err the writer's sticky error, drops what is queued and stops
// loop. The owner calls it once, after closing the connection.
func (w *connWriter) close(err error) {
	w.mu.Lock()
	w.failLocked(err)
	w.mu.Unlock()
	close(w.stop)
}

// framesOut returns how many frames were queued.
func (w *connWriter) framesOut() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.frames
}

// counts returns how many frames were queued and how many batches written.
func (w *connWriter) counts() (frames, writes uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.frames, w.writes
}
