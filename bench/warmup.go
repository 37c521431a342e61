package bench

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrWarmup is returned by Warmup when no probe reached every connection.
var ErrWarmup = errors.New("bench: warm-up failed")

// warmupWait is how long one probe may go without reaching one more
// connection before the next is sent.
const warmupWait = time.Second

// Warmup pushes probe messages to w's room (every connection of the
// receivers is in it) until one reaches every connection, or timeout passes. A push
// made before the job has learned of the comet is accepted and then
// dropped, so a measurement starts only after a probe went through. Each
// probe is a round of its own; nothing is left counted afterwards.
func Warmup(ctx context.Context, f Receivers, w Workload, httpAddr string, timeout time.Duration) error {
	w = w.withDefaults()
	w.Kind = KindRoom
	want := uint64(f.Connected())
	pc := NewPushConn(httpAddr, timeout)
	defer pc.Close()
	path := newPathBuilder(w, f.Connected()).append(nil, 0)
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		r, err := f.StartRound()
		if err != nil {
			return err
		}
		body := AppendStamp(nil, Stamp{Sent: time.Now().UnixNano(), Round: r.ID}, w.Size)
		if _, err := pc.Post(path, body); err != nil {
			lastErr = err
			time.Sleep(100 * time.Millisecond)
			continue
		}
		wctx, cancel := context.WithDeadline(ctx, deadline)
		r.WaitReceived(wctx, want, warmupWait)
		cancel()
		if err := f.Collect(r); err != nil {
			return err
		}
		if got := r.Received(); got >= want {
			return nil
		}
		lastErr = fmt.Errorf("probe reached %d of %d connections", r.Received(), want)
	}
	if lastErr == nil {
		lastErr = ctx.Err()
	}
	return fmt.Errorf("%w after %v: %v", ErrWarmup, timeout, lastErr)
}
