package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// server is a server process started by -server-cmd.
type server struct {
	cmd  *exec.Cmd
	log  io.Closer // the -server-log file, nil when discarded
	done chan struct{}
}

// startServer starts -server-cmd, if any, and waits until the client
// address and the HTTP API accept connections. It returns nil without a
// command.
func startServer(ctx context.Context, o *options) (*server, error) {
	fields := strings.Fields(o.serverCmd)
	if len(fields) == 0 {
		return nil, nil
	}
	cmd := exec.Command(fields[0], fields[1:]...)
	s := &server{cmd: cmd, done: make(chan struct{})}
	if o.serverLog != "" {
		f, err := os.Create(o.serverLog)
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr, s.log = f, f, f
	}
	if err := cmd.Start(); err != nil {
		if s.log != nil {
			s.log.Close()
		}
		return nil, fmt.Errorf("start server: %w", err)
	}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx, o.serverWait, append(strings.Split(o.addr, ","), o.httpAddr)...); err != nil {
		s.stop()
		return nil, err
	}
	fmt.Fprintf(o.stderr, "server %q started, pid %d\n", o.serverCmd, s.pid())
	return s, nil
}

// waitReady polls the addresses until both accept a connection.
func (s *server) waitReady(ctx context.Context, wait time.Duration, addrs ...string) error {
	deadline := time.Now().Add(wait)
	for _, addr := range addrs {
		for {
			nc, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				nc.Close()
				break
			}
			select {
			case <-s.done:
				return fmt.Errorf("server exited: %v", s.cmd.ProcessState)
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("server not accepting on %s after %v: %w", addr, wait, err)
			}
		}
	}
	return nil
}

// pid returns the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop terminates the server (SIGTERM, then SIGKILL after 10s) and waits
// for it. It does nothing on a nil server.
func (s *server) stop() {
	if s == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	if s.log != nil {
		s.log.Close()
	}
}
