package comet

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func TestStackDepthProbe(t *testing.T) {
	if os.Getenv("PROBE") == "" {
		t.Skip()
	}
	s := startServer(t, Config{}, &fakeLogic{})
	a := dialTCP(t, s.tcp)
	a.auth(token{Key: "a"})
	w := dialWS(t, s.ws)
	w.auth(token{Key: "w"})
	waitFor(t, "conns", func() bool { return s.cm.Stats().Conns == 2 })
	time.Sleep(100 * time.Millisecond)
	syscall.Kill(os.Getpid(), syscall.SIGQUIT)
	time.Sleep(time.Second)
}
