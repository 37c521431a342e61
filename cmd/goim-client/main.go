// Command goim-client connects to a goim comet, authenticates, and prints
// every packet it receives, one line per message, until the connection
// ends or it is interrupted.
//
// Usage:
//
//	goim-client [-transport tcp|ws|wss|tcp+tls] [-addr host:port] [-mid 123]
//	            [-key k] [-room live://1000] [-accepts 1000,1001] [-heartbeat 30s]
//	            [-nodes http://127.0.0.1:3111/goim/nodes/weighted] [-reconnect=true]
//	            [-max-backoff 0]
//
// Each line is "op=OP seq=SEQ" followed by "online=N" for heartbeat
// replies or "body=BODY" for messages with a body (printed as is when it is
// printable UTF-8, else quoted).
//
// With -nodes, the client asks logic's /goim/nodes/weighted where to
// connect (unless -addr is given) and, when the connection ends for any
// reason but Ctrl-C or an auth refusal, asks again and redials the first
// node listed after the advertised backoff, printing
// "reconnected to HOST:PORT after REASON".
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/websocket"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h: the flags were printed; exit 0 like goim -h
		}
		fmt.Fprintln(os.Stderr, "goim-client:", err)
		os.Exit(1)
	}
}

// defaultPorts are the comet's default ports per transport.
var defaultPorts = map[string]string{
	client.TransportTCP: "3101",
	client.TransportTLS: "3101",
	client.TransportWS:  "3102",
	client.TransportWSS: "3103",
}

// options are the command line: the connection's configuration and how
// to reconnect.
type options struct {
	cfg        client.Config
	nodes      string        // URL of logic's /goim/nodes/weighted; "" means none
	reconnect  bool          // reconnect through nodes when the connection ends
	addrSet    bool          // -addr was given: the first dial uses it, not nodes
	maxBackoff time.Duration // cap on each reconnect wait; 0 means none
}

// parseFlags turns the command line into options.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("goim-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	cfg := &o.cfg
	fs.StringVar(&cfg.Transport, "transport", client.TransportTCP, "transport: tcp, ws, wss or tcp+tls")
	fs.StringVar(&cfg.Addr, "addr", "", "comet address host:port or ws:// URL (default 127.0.0.1 and the transport's default port)")
	fs.Int64Var(&cfg.Token.Mid, "mid", 0, "user id (0: anonymous)")
	fs.StringVar(&cfg.Token.Key, "key", "", "connection key (empty: assigned by the server)")
	fs.StringVar(&cfg.Token.RoomID, "room", "", "room to join, type://id (e.g. live://1000)")
	fs.StringVar(&cfg.Token.Platform, "platform", "web", "platform: web, android or ios")
	accepts := fs.String("accepts", "", "comma-separated push operations to accept (e.g. 1000,1001)")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", 30*time.Second, "heartbeat interval (0: none)")
	fs.StringVar(&cfg.LocalAddr, "local", "", "local IP address to connect from")
	insecure := fs.Bool("insecure", false, "skip TLS certificate verification (tcp+tls, wss)")
	fs.StringVar(&o.nodes, "nodes", "", "URL of logic's /goim/nodes/weighted (e.g. http://127.0.0.1:3111/goim/nodes/weighted): "+
		"where to connect when -addr is not given, and where to reconnect")
	fs.BoolVar(&o.reconnect, "reconnect", true, "with -nodes: reconnect when the connection ends (not after Ctrl-C or an auth refusal)")
	fs.DurationVar(&o.maxBackoff, "max-backoff", 0, "longest wait before a reconnect, below the advertised backoff (0: the advertised one)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.maxBackoff < 0 {
		return o, fmt.Errorf("-max-backoff %v is negative", o.maxBackoff)
	}
	if o.nodes == "" {
		o.reconnect = false // nowhere to ask
	}
	ops, err := parseOps(*accepts)
	if err != nil {
		return o, err
	}
	cfg.Token.Accepts = ops
	o.addrSet = cfg.Addr != ""
	if cfg.Addr == "" {
		port, ok := defaultPorts[cfg.Transport]
		if !ok {
			return o, fmt.Errorf("unknown transport %q", cfg.Transport)
		}
		cfg.Addr = "127.0.0.1:" + port
	}
	if *insecure {
		cfg.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	}
	return o, nil
}

// parseOps parses "1000,1001" into operations; "" gives none.
func parseOps(s string) ([]int32, error) {
	var ops []int32
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("-accepts: %q is not an operation", f)
		}
		ops = append(ops, int32(n))
	}
	return ops, nil
}

// appendLine appends the printed form of m and a newline to b.
func appendLine(b []byte, m client.Message) []byte {
	b = append(b, "op="...)
	b = strconv.AppendInt(b, int64(m.Op), 10)
	b = append(b, " seq="...)
	b = strconv.AppendInt(b, int64(m.Seq), 10)
	if n, ok := client.OnlineCount(m); ok {
		b = append(b, " online="...)
		b = strconv.AppendInt(b, int64(n), 10)
	} else if len(m.Body) > 0 {
		b = append(b, " body="...)
		if printable(m.Body) {
			b = append(b, m.Body...)
		} else {
			b = strconv.AppendQuote(b, string(m.Body))
		}
	}
	return append(b, '\n')
}

// printable reports whether body is valid UTF-8 without control
// characters, so that it can be printed on one line as is.
func printable(body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	for _, r := range string(body) {
		if unicode.IsControl(r) || !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}

// tcpCloseHint lists why a comet closes a TCP connection, which carries
// no close reason.
const tcpCloseHint = "the server closed the connection without a reason (TCP has none); " +
	"usually another client authenticated with the same -key and replaced this one " +
	"(use a distinct -key per client), or the comet is draining or stopping, " +
	"or no heartbeat arrived in time"

// closedWhy explains err, the error that ended reading: the reason a
// WebSocket server gave in its close frame, or the usual reasons when a
// TCP server closed the connection.
func closedWhy(err error) error {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		why := ce.Reason
		if why == "" {
			why = "no reason given"
		}
		return fmt.Errorf("closed by the server (WebSocket close %d: %s): %w", ce.Code, why, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: %w", tcpCloseHint, err)
	}
	return err
}
