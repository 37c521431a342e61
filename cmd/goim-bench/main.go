// Command goim-bench is the load generator: it drives a running goim
// cluster over its public interfaces (client connections over TCP or
// WebSocket, pushes through the HTTP push API) from its own process, and
// reports deliveries, rates, push-to-receive latency percentiles and,
// when the servers run on this machine, their RSS and CPU from /proc.
//
// Scenarios (-scenario):
//
//	idle   open -conns idle connections and report the servers' RSS
//	       growth per connection after -settle
//	room   push to one room holding every connection at -rate for -duration
//	knee   room at each of -rates in turn (-duration each) until p99 passes
//	       -p99-bound or a message is missing; writes an SVG plot (-svg)
//	keys   push to one key per push, round robin over the connections
//	mids   push to one user (-devices connections) per push
//	all    broadcast to every connection
//	lone   keys, then room, at a low -rate (default 20/s): latency of a
//	       lone push on an idle system
//	scale  idle, then room and all at -rate, on the same connections
//
// -generators N spreads -conns over N processes (copies of goim-bench,
// -scenario member, driven over their stdin and stdout), each on source
// addresses of its own and under the open-file limit, for idle, room,
// knee, all and scale: the latencies they measure are merged into one
// report.
//
// -rate 0 is a closed loop: -concurrency callers push as fast as they are
// answered (e.g. HTTP push requests/s). Every push carries its send time,
// so receivers measure latency without clock skew (one machine). Runs are
// bounded by -duration, -count and -max-time.
//
// The servers' pids come from -pids, -procname, or -server-cmd (the
// command is started, waited for and stopped by goim-bench). A progress
// line goes to stderr every -progress; the final table to stdout; the
// results as JSON to -json.
//
// Example (room fan-out knee, 10,000 members, against an all-in-one
// server started with batching off):
//
//	go build -o /tmp/goim ./cmd/goim && go build -o /tmp/goim-bench ./cmd/goim-bench
//	/tmp/goim-bench -server-cmd "/tmp/goim -job.batch-size 1" -scenario knee \
//	    -conns 10000 -rates 10,20,50,100 -duration 10s -p99-bound 1s -svg knee.svg
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "goim-bench:", err)
		os.Exit(1)
	}
}
