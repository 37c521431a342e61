package comet

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/logic/logicrpc"
)

// gatedLogic is a fakeLogic whose Disconnect waits until open is closed.
type gatedLogic struct {
	*fakeLogic
	open chan struct{}
}

func (l *gatedLogic) Disconnect(ctx context.Context, req *logicrpc.DisconnectReq) (*logicrpc.DisconnectReply, error) {
	select {
	case <-l.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return l.fakeLogic.Disconnect(ctx, req)
}

// TestMassCloseHoldsNoGoroutines: while logic does not answer, clients
// that close leave no goroutine each behind, only queued requests; once
// logic answers, it hears of every one, with its connection id.
func TestMassCloseHoldsNoGoroutines(t *testing.T) {
	const n = 300
	fake := &fakeLogic{}
	// Every client is 127.0.0.1; a stuck call would hold its caller for
	// LogicTimeout, longer than the test waits.
	s := startServer(t, Config{AuthRatePerIP: -1, MaxConnsPerIP: -1, LogicTimeout: time.Hour}, fake)
	logic := &gatedLogic{fakeLogic: fake, open: make(chan struct{})}
	s.cm.logic = logic
	var clients []*client
	for i := range n {
		c := dialTCP(t, s.tcp)
		c.auth(token{Key: fmt.Sprintf("k%d", i)})
		clients = append(clients, c)
	}
	testwait.For(t, waitTimeout, "every connection registered", func() bool { return s.cm.Stats().Conns == n })
	before := runtime.NumGoroutine()
	for _, c := range clients {
		c.nc.Close()
	}
	testwait.For(t, waitTimeout, "every connection gone", func() bool { return s.cm.Stats().Conns == 0 })
	// Their goroutines end without waiting for logic.
	testwait.For(t, waitTimeout, "the closed connections' goroutines ended", func() bool {
		return runtime.NumGoroutine() <= before+n/10
	})
	close(logic.open)
	testwait.For(t, waitTimeout, "every disconnect told", func() bool { return len(fake.disconnected()) == n })
	ids := map[uint64]bool{}
	for _, d := range fake.disconnected() {
		ids[d.ConnID] = true
	}
	if len(ids) != n {
		t.Errorf("%d distinct connection ids in %d disconnects", len(ids), n)
	}
}

// TestShutdownWaitsForDisconnects: Shutdown returns once logic heard of
// every closed connection.
func TestShutdownWaitsForDisconnects(t *testing.T) {
	fake := &fakeLogic{}
	s := startServer(t, Config{}, fake)
	for i := range 50 {
		dialTCP(t, s.tcp).auth(token{Key: fmt.Sprintf("k%d", i)})
	}
	testwait.For(t, waitTimeout, "every connection registered", func() bool { return s.cm.Stats().Conns == 50 })
	if err := s.cm.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := len(fake.disconnected()); d != 50 {
		t.Errorf("logic heard of %d of 50 closed connections when Shutdown returned", d)
	}
}
