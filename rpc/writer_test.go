package rpc

import (
	"context"
	"io"
	"net"
	"runtime"
	"testing"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln := listenRetry(t, "127.0.0.1:0")
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestDirectWriteCoalesces: a caller that finds the connection idle yields
// before it writes, so a frame that a goroutine ready to run queues
// meanwhile goes out in the same write. On one processor the other
// goroutine runs during the yield; the scheduler may still pick the caller
// first now and then (it checks its global queue every 61 rounds, and the
// race detector shuffles), so one coalesced write in 10 attempts is asked
// for. Without the yield every attempt takes two writes.
func TestDirectWriteCoalesces(t *testing.T) {
	a, b := tcpPair(t)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(io.Discard, b)
	}()
	w := newConnWriter(a, 0)
	go w.loop()
	defer func() {
		a.Close()
		w.close(ErrClosed)
		<-copied
	}()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ctx := context.Background()
	payload := make([]byte, 16)
	for range 10 {
		ready := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			<-ready
			done <- w.writeFrame(ctx, header{kind: KindCall, method: 1, seq: 2}, payload, true)
		}()
		_, before := w.counts()
		close(ready)
		if err := w.writeFrame(ctx, header{kind: KindCall, method: 1, seq: 1}, payload, true); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		w.waitIdle()
		frames, after := w.counts()
		if after-before == 1 {
			t.Logf("2 frames in one write (%d frames, %d writes so far)", frames, after)
			return
		}
	}
	t.Fatal("no attempt put two ready frames into one write")
}
