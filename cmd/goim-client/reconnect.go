package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/websocket"
)

// nodesTimeout bounds one /goim/nodes/weighted request.
const nodesTimeout = 10 * time.Second

// run connects and prints messages to out until the connection ends (and
// is not to be reconnected) or ctx is cancelled, which ends it cleanly.
func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args, os.Stderr)
	if err != nil {
		return err
	}
	s := &session{o: o, out: out, log: os.Stderr, hc: &http.Client{Timeout: nodesTimeout}}
	err = s.run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// errOutput marks a failure to write the output, which no reconnect
// mends.
var errOutput = errors.New("writing the output")

// session is one run of the client: its connections one after the other.
type session struct {
	o    options
	out  io.Writer // messages and reconnect lines
	log  io.Writer // why a reconnect waits or fails
	hc   *http.Client
	info client.NodesInfo // the last /goim/nodes/weighted answer
	line []byte           // buffer of the printed line
}

// run dials, prints, and with o.reconnect redials after each connection
// loss, until ctx is cancelled or a connection cannot be remade.
func (s *session) run(ctx context.Context) error {
	c, err := s.dialFirst(ctx)
	if err != nil {
		return err
	}
	for {
		err := s.print(ctx, c)
		c.Close()
		if ctx.Err() != nil {
			return nil
		}
		if !s.o.reconnect || errors.Is(err, errOutput) {
			return closedWhy(err)
		}
		if c, err = s.redial(ctx, err); err != nil {
			return err
		}
	}
}

// dialFirst makes the first connection: to -addr, or with -nodes and no
// -addr to the first node listed. It does not retry: a wrong address
// fails at once.
func (s *session) dialFirst(ctx context.Context) (*client.Conn, error) {
	cfg := s.o.cfg
	if s.o.nodes != "" {
		if err := s.fetchNodes(ctx); err != nil {
			return nil, err
		}
		if !s.o.addrSet {
			addr, err := s.nodeAddr()
			if err != nil {
				return nil, err
			}
			cfg.Addr = addr
		}
	}
	return client.Dial(ctx, cfg)
}

// redial waits the advertised backoff, asks -nodes where to connect and
// dials there, again until a connection is made. why is the error that
// ended the last connection. Only an auth refusal or ctx ends the retries.
func (s *session) redial(ctx context.Context, why error) (*client.Conn, error) {
	for retry := 0; ; retry++ {
		d := s.info.Backoff.RandomDelay(retry, s.o.maxBackoff)
		fmt.Fprintf(s.log, "goim-client: connection lost: %s; reconnecting in %v\n", shortWhy(why), d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		if err := s.fetchNodes(ctx); err != nil {
			fmt.Fprintln(s.log, "goim-client:", err)
			continue
		}
		addr, err := s.nodeAddr()
		if err != nil {
			fmt.Fprintln(s.log, "goim-client:", err)
			continue
		}
		cfg := s.o.cfg
		cfg.Addr = addr
		c, err := client.Dial(ctx, cfg)
		switch {
		case err == nil:
			fmt.Fprintf(s.out, "reconnected to %s after %s\n", addr, shortWhy(why))
			return c, nil
		case errors.Is(err, client.ErrAuth), ctx.Err() != nil:
			return nil, err
		}
		fmt.Fprintln(s.log, "goim-client:", err)
	}
}

// fetchNodes asks -nodes for the comets to connect to.
func (s *session) fetchNodes(ctx context.Context) error {
	info, err := client.Nodes(ctx, s.hc, s.o.nodes)
	if err != nil {
		return err
	}
	s.info = info
	return nil
}

// nodeAddr returns the address of the first node of the last answer for
// the transport.
func (s *session) nodeAddr() (string, error) {
	addr, ok := s.info.Addr(s.o.cfg.Transport)
	if !ok {
		return "", fmt.Errorf("%s lists no node for transport %s (nodes %q, ports tcp %d ws %d wss %d)",
			s.o.nodes, s.o.cfg.Transport, s.info.Nodes, s.info.TCPPort, s.info.WSPort, s.info.WSSPort)
	}
	return addr, nil
}

// print prints the messages of c to out until reading fails; it returns
// nil when ctx was cancelled.
func (s *session) print(ctx context.Context, c *client.Conn) error {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	for {
		m, err := c.Read()
		if err != nil {
			if errors.Is(err, client.ErrClosed) && ctx.Err() != nil {
				return nil
			}
			return err
		}
		s.line = appendLine(s.line[:0], m)
		if _, err := s.out.Write(s.line); err != nil {
			return fmt.Errorf("%w: %w", errOutput, err)
		}
	}
}

// shortWhy is the one-line reason of a reconnect: the WebSocket close
// code and reason, "the server closed the connection (EOF)" for a TCP
// hang-up, else the error.
func shortWhy(err error) string {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return fmt.Sprintf("WebSocket close %d: %s", ce.Code, cmp.Or(ce.Reason, "no reason given"))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection (EOF)"
	}
	return err.Error()
}
