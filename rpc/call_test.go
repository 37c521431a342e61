package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
)

func TestCallReply(t *testing.T) {
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, echo) })
	c := newTestClient(t, ts.addr, ClientConfig{})
	ctx := testCtx(t)
	for _, n := range []int{0, 1, 100, readBufferSize - 1, readBufferSize, readBufferSize + 1, 1 << 20} {
		req := bytes.Repeat([]byte{byte(n)}, n)
		reply, err := c.Call(ctx, 1, req, []byte("pre"))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(reply, append([]byte("pre"), req...)) {
			t.Fatalf("%d bytes: reply of %d bytes does not match", n, len(reply))
		}
	}
	if !c.Connected() || c.Addr() != ts.addr {
		t.Fatalf("Connected %v, Addr %q", c.Connected(), c.Addr())
	}
	st := c.Stats()
	// One call at a time: each frame is a write of its own.
	if st.FramesOut != 7 || st.Writes != 7 || st.FramesIn != 7 || st.Dials != 1 || !st.Connected {
		t.Fatalf("client stats %+v", st)
	}
	if st := ts.Stats(); st.FramesIn != 7 || st.FramesOut != 7 || st.Writes != 7 || st.Conns != 1 || st.Accepted != 1 {
		t.Fatalf("server stats %+v", st)
	}
}

func TestRemoteError(t *testing.T) {
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) {
		s.Handle(2, func(context.Context, []byte, []byte) ([]byte, error) { return nil, errors.New("logic: bad token") })
	})
	c := newTestClient(t, ts.addr, ClientConfig{})
	reply, err := c.Call(testCtx(t), 2, nil, []byte("keep"))
	var re *RemoteError
	if !errors.As(err, &re) || re.Method != 2 || re.Message != "logic: bad token" || err.Error() != "logic: bad token" {
		t.Fatalf("err = %#v", err)
	}
	if string(reply) != "keep" {
		t.Fatalf("reply on error = %q, want the buffer unchanged", reply)
	}
	if errors.Is(err, ErrUnknownMethod) || errors.Is(err, ErrHandlerPanic) {
		t.Fatalf("%v matches a server error", err)
	}
}

// TestRemoteErrorCode: a handler's error wrapping an *Error reaches the
// caller with its code, so errors.Is matches the same sentinel, and only it.
func TestRemoteErrorCode(t *testing.T) {
	errMine := NewError(150, "svc: mine")
	errOther := NewError(151, "svc: mine") // same text, other code
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) {
		s.Handle(1, func(context.Context, []byte, []byte) ([]byte, error) {
			return nil, fmt.Errorf("svc: call: %w", errMine)
		})
		s.Handle(2, func(context.Context, []byte, []byte) ([]byte, error) { return nil, ErrMalformed })
	})
	c := newTestClient(t, ts.addr, ClientConfig{})
	ctx := testCtx(t)
	_, err := c.Call(ctx, 1, nil, nil)
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != 150 || re.Message != "svc: call: svc: mine" {
		t.Fatalf("err = %#v", err)
	}
	if !errors.Is(err, errMine) || errors.Is(err, errOther) || errors.Is(err, ErrUnknownMethod) {
		t.Fatalf("%v: Is(mine) %v, Is(other) %v", err, errors.Is(err, errMine), errors.Is(err, errOther))
	}
	if _, err := c.Call(ctx, 2, nil, nil); !errors.Is(err, ErrMalformed) || CodeOf(err) != CodeMalformed {
		t.Fatalf("err = %v (code %d), want ErrMalformed", err, CodeOf(err))
	}
}

// TestOnewayErrorReported: a failing one-way handler's error comes back to
// the sender with the message's method and tag and the error's code; the
// messages that succeed are not reported.
func TestOnewayErrorReported(t *testing.T) {
	errRefused := NewError(160, "svc: refused")
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) {
		s.HandleOneway(4, func(_ context.Context, p []byte) error {
			switch string(p) {
			case "refuse":
				return fmt.Errorf("svc: %w", errRefused)
			case "panic":
				panic("oneway boom")
			}
			return nil
		})
	})
	type report struct {
		method uint16
		tag    uint32
		err    error
	}
	reports := make(chan report, 10)
	c := newTestClient(t, ts.addr, ClientConfig{OnewayError: func(method uint16, tag uint32, err error) {
		reports <- report{method, tag, err}
	}})
	ctx := testCtx(t)
	for i, p := range []string{"ok", "refuse", "ok", "panic"} {
		if err := c.SendTagged(ctx, 4, uint32(i+10), []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []struct {
		tag uint32
		err error
	}{{11, errRefused}, {13, ErrHandlerPanic}} {
		select {
		case r := <-reports:
			var re *RemoteError
			if r.method != 4 || r.tag != want.tag || !errors.Is(r.err, want.err) || !errors.As(r.err, &re) {
				t.Fatalf("report %+v, want method 4 tag %d matching %v", r, want.tag, want.err)
			}
		case <-ctx.Done():
			t.Fatal("no report of the failed one-way message")
		}
	}
	// A call after the one-ways comes back after their reports, if any.
	ts.Handle(1, echo)
	if _, err := c.Call(ctx, 1, nil, nil); err != nil {
		t.Fatal(err)
	}
	if len(reports) != 0 {
		t.Fatalf("%d more reports", len(reports))
	}
	if cs, ss := c.Stats(), ts.Stats(); cs.OnewayErrors != 2 || ss.OnewayErrors != 2 || ss.Panics != 1 {
		t.Fatalf("client %+v, server %+v: want 2 one-way errors each", cs, ss)
	}
}

func TestUnknownMethod(t *testing.T) {
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, echo) })
	c := newTestClient(t, ts.addr, ClientConfig{})
	ctx := testCtx(t)
	_, err := c.Call(ctx, 9, []byte("x"), nil)
	var re *RemoteError
	if !errors.Is(err, ErrUnknownMethod) || !errors.As(err, &re) || re.Message != "rpc: unknown method 9" || re.Method != 9 {
		t.Fatalf("err = %v", err)
	}
	if err := c.Send(ctx, 9, []byte("x")); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "the one-way to be dropped", func() bool { return ts.Stats().OnewayDropped == 1 })
	if _, err := c.Call(ctx, 1, []byte("still"), nil); err != nil {
		t.Fatalf("call after unknown methods: %v", err)
	}
	if st := ts.Stats(); st.UnknownCalls != 1 || st.Conns != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestHandleWhileServing registers a handler on a running server.
func TestHandleWhileServing(t *testing.T) {
	ts := startServer(t, "", ServerConfig{}, nil, nil)
	c := newTestClient(t, ts.addr, ClientConfig{})
	ctx := testCtx(t)
	if _, err := c.Call(ctx, 3, nil, nil); !errors.Is(err, ErrUnknownMethod) {
		t.Fatalf("err = %v", err)
	}
	ts.Handle(3, echo)
	if reply, err := c.Call(ctx, 3, []byte("now"), nil); err != nil || string(reply) != "now" {
		t.Fatalf("%q %v", reply, err)
	}
}

func TestOnewayOrder(t *testing.T) {
	const n = 10000
	var mu sync.Mutex
	var got []uint64
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) {
		s.HandleOneway(5, func(_ context.Context, p []byte) error {
			d := NewDecoder(p)
			v := d.Uvarint()
			mu.Lock()
			got = append(got, v)
			mu.Unlock()
			return nil
		})
	})
	c := newTestClient(t, ts.addr, ClientConfig{})
	ctx := testCtx(t)
	var buf []byte
	for i := range uint64(n) {
		buf = AppendUvarint(buf[:0], i)
		if err := c.Send(ctx, 5, buf); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	testwait.For(t, 10*time.Second, "every one-way", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	})
	for i, v := range got {
		if v != uint64(i) {
			t.Fatalf("message %d is %d: out of order", i, v)
		}
	}
}

// TestConcurrentCalls runs many goroutines calling (and sending) at once
// on one client.
func TestConcurrentCalls(t *testing.T) {
	var oneways sync.WaitGroup
	ts := startServer(t, "", ServerConfig{MaxInflight: 8}, nil, func(s *Server) {
		s.Handle(1, echo)
		s.HandleOneway(2, func(context.Context, []byte) error { oneways.Done(); return nil })
	})
	c := newTestClient(t, ts.addr, ClientConfig{})
	ctx := testCtx(t)
	const workers, calls = 32, 200
	oneways.Add(workers * calls)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var reply []byte
			for i := range calls {
				req := fmt.Appendf(nil, "w%d-c%d-%s", w, i, bytes.Repeat([]byte("p"), i*w%97))
				var err error
				reply, err = c.Call(ctx, 1, req, reply[:0])
				if err == nil && !bytes.Equal(reply, req) {
					err = fmt.Errorf("reply %q to %q", reply, req)
				}
				if err == nil {
					err = c.Send(ctx, 2, req)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	oneways.Wait()
}

// TestDeadline: a call whose handler outlives the caller's deadline returns
// context.DeadlineExceeded at the deadline; the late reply is dropped and
// the connection keeps working.
func TestDeadline(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) {
		s.Handle(1, echo)
		s.Handle(2, func(ctx context.Context, req, reply []byte) ([]byte, error) {
			entered <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return append(reply, "late"...), nil
		})
	})
	c := newTestClient(t, ts.addr, ClientConfig{})
	if _, err := c.Call(testCtx(t), 1, nil, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	buf := make([]byte, 0, 64)
	reply, err := c.Call(ctx, 2, nil, buf)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if len(reply) != 0 {
		t.Fatalf("reply %q on timeout", reply)
	}
	<-entered
	close(release) // the handler answers only now
	testwait.For(t, 5*time.Second, "the late reply to be dropped", func() bool { return c.Stats().LateReplies == 1 })
	if string(buf[:4]) == "late" {
		t.Fatal("the late reply was written into the caller's buffer")
	}
	if reply, err := c.Call(testCtx(t), 1, []byte("after"), nil); err != nil || string(reply) != "after" {
		t.Fatalf("call after a timeout: %q %v", reply, err)
	}
}

func TestCallCanceled(t *testing.T) {
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) {
		s.Handle(1, func(ctx context.Context, _, reply []byte) ([]byte, error) {
			<-ctx.Done()
			return reply, nil
		})
	})
	c := newTestClient(t, ts.addr, ClientConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, 1, nil, nil)
		done <- err
	}()
	testwait.For(t, 5*time.Second, "the call to reach the server", func() bool { return ts.Stats().FramesIn == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestHandlerPanic(t *testing.T) {
	logs := &logBuffer{}
	var mu sync.Mutex
	var seen []string
	ts := startServer(t, "", ServerConfig{}, newTextLogger(logs), func(s *Server) {
		s.Handle(1, echo)
		s.Handle(2, func(context.Context, []byte, []byte) ([]byte, error) { panic("boom") })
		s.HandleOneway(3, func(_ context.Context, p []byte) error {
			if string(p) == "panic" {
				panic("oneway boom")
			}
			mu.Lock()
			seen = append(seen, string(p))
			mu.Unlock()
			return nil
		})
	})
	c := newTestClient(t, ts.addr, ClientConfig{})
	ctx := testCtx(t)
	_, err := c.Call(ctx, 2, nil, nil)
	if !errors.Is(err, ErrHandlerPanic) {
		t.Fatalf("err = %v, want ErrHandlerPanic", err)
	}
	for _, p := range []string{"a", "panic", "b"} {
		if err := c.Send(ctx, 3, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 5*time.Second, "the one-ways after the panic", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 2
	})
	if reply, err := c.Call(ctx, 1, []byte("ok"), nil); err != nil || string(reply) != "ok" {
		t.Fatalf("call after panics: %q %v", reply, err)
	}
	if st := ts.Stats(); st.Panics != 2 || st.Conns != 1 {
		t.Fatalf("stats %+v", st)
	}
	if !bytes.Contains([]byte(logs.String()), []byte("handler panic")) {
		t.Fatalf("no panic logged: %s", logs)
	}
}

// TestHandlerReplyOwnership: a handler returning a slice of its own (not
// the reply buffer) must never see it overwritten by later calls.
func TestHandlerReplyOwnership(t *testing.T) {
	static := []byte("static")
	static = static[:6:6]
	big := bytes.Repeat([]byte("b"), 2000)
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) {
		s.Handle(1, func(context.Context, []byte, []byte) ([]byte, error) { return static[:0:6], nil })
		s.Handle(2, func(_ context.Context, req, _ []byte) ([]byte, error) { return big, nil })
		s.Handle(3, echo)
	})
	c := newTestClient(t, ts.addr, ClientConfig{})
	ctx := testCtx(t)
	for i := range 50 {
		m := uint16(i%3 + 1)
		if _, err := c.Call(ctx, m, []byte("xxxxxxxxxx"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if string(static) != "static" || !bytes.Equal(big, bytes.Repeat([]byte("b"), 2000)) {
		t.Fatalf("handler-owned reply overwritten: %q", static)
	}
}

func TestFrameTooLargeSent(t *testing.T) {
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) { s.Handle(1, echo) })
	c := newTestClient(t, ts.addr, ClientConfig{MaxFrameSize: 100})
	ctx := testCtx(t)
	if _, err := c.Call(ctx, 1, make([]byte, 94), nil); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("call: %v", err)
	}
	if err := c.Send(ctx, 1, make([]byte, 94)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("send: %v", err)
	}
	if _, err := c.Call(ctx, 1, make([]byte, 93), nil); err != nil {
		t.Fatalf("call at the limit: %v", err)
	}
	if st := c.Stats(); st.FramesOut != 1 {
		t.Fatalf("frames out %d, want 1", st.FramesOut)
	}
}

// TestReplyTooLarge: a reply over the server's limit becomes an error reply.
func TestReplyTooLarge(t *testing.T) {
	ts := startServer(t, "", ServerConfig{MaxFrameSize: 64}, nil, func(s *Server) {
		s.Handle(1, func(_ context.Context, _, reply []byte) ([]byte, error) {
			return append(reply, make([]byte, 100)...), nil
		})
	})
	c := newTestClient(t, ts.addr, ClientConfig{})
	_, err := c.Call(testCtx(t), 1, nil, nil)
	var re *RemoteError
	if !errors.As(err, &re) || !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

// TestSeqWrapSkipsPending: when the seq counter wraps around onto a call
// that is still pending, the new call takes the next free seq instead of
// stealing the pending call's slot (which would leave that caller waiting
// for a reply that can no longer reach it).
func TestSeqWrapSkipsPending(t *testing.T) {
	b := newBlocker()
	ts := startServer(t, "", ServerConfig{}, nil, func(s *Server) {
		s.Handle(1, b.handle)
		s.Handle(2, echo)
	})
	c := newTestClient(t, ts.addr, ClientConfig{})
	ctx := testCtx(t)
	c.seq.Store(math.MaxUint32 - 1)
	slow := make(chan error, 1)
	go func() {
		reply, err := c.Call(ctx, 1, nil, nil)
		if err == nil && string(reply) != "released" {
			err = fmt.Errorf("reply %q, want \"released\"", reply)
		}
		slow <- err
	}()
	<-b.entered
	c.seq.Store(math.MaxUint32 - 1) // wrapped all the way round
	for i := range 3 {
		reply, err := c.Call(ctx, 2, []byte("fast"), nil)
		if err != nil || string(reply) != "fast" {
			t.Fatalf("call %d after the wrap: %q, %v", i, reply, err)
		}
	}
	close(b.release)
	if err := waitErr(t, slow, "the pending call"); err != nil {
		t.Fatalf("pending call: %v", err)
	}
}
