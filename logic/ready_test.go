package logic

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/goimx/goim/logic/logicrpc"
)

// TestReady: a logic node is ready once a live job takes pushes, and not
// while none does, saying why.
func TestReady(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	notReady := func(step, why string) {
		t.Helper()
		err := e.l.Ready(ctx)
		if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: Ready = %v, want ErrNotReady naming %q", step, err, why)
		}
	}
	notReady("no job", "no job node takes pushes")
	e.addJob(t, "j1")
	if err := e.l.Ready(ctx); err != nil {
		t.Errorf("with a job: Ready = %v", err)
	}
	e.report(t, logicrpc.NodeInfo{ID: "j1", Kind: logicrpc.KindJob, RPCAddr: "j1:1", Offline: true}, nil)
	notReady("job offline", "no job node takes pushes")
}

// TestReadyRedisDown: with Redis unreachable, Ready names the session
// store even when a job is known.
func TestReadyRedisDown(t *testing.T) {
	url := "redis://127.0.0.1:" + strconv.Itoa(freePort(t)) + "/12"
	e := newTestEnv(t, func(c *Config) { c.Redis = url })
	err := e.l.Ready(context.Background())
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "session store") {
		t.Errorf("Ready = %v, want ErrNotReady naming the session store", err)
	}
}
