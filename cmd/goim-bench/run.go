package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/goimx/goim/bench"
)

// fdReserve is how many descriptors beyond its connections the generator
// keeps for HTTP callers, /proc reads and its own files.
const fdReserve = 100

// run runs the load generator with the command-line args.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	o.stdout, o.stderr = stdout, stderr
	ctx, cancel := context.WithTimeout(ctx, o.maxTime)
	defer cancel()
	limit, err := bench.RaiseFileLimit()
	if err != nil {
		return fmt.Errorf("raise the open-file limit: %w", err)
	}
	if need := uint64(o.conns + o.concurrency + fdReserve); need > limit {
		return fmt.Errorf("%d connections need about %d descriptors, the limit is %d (run several generators)", o.conns, need, limit)
	}
	srv, err := startServer(ctx, o)
	if err != nil {
		return err
	}
	defer srv.stop()
	pids, err := serverPids(o, srv)
	if err != nil {
		return err
	}
	rep := newReport(o, pids)
	if err := runScenario(ctx, o, pids, rep); err != nil {
		rep.Error = err.Error()
		_ = rep.write(o)
		return err
	}
	return rep.write(o)
}

// serverPids returns the pids to sample: -pids, the processes named by
// -procname, and the -server-cmd process.
func serverPids(o *options, srv *server) ([]int, error) {
	pids := append([]int(nil), o.pids...)
	for _, name := range o.procNames {
		found, err := bench.FindProcs(name)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("no process named %q", name)
		}
		pids = append(pids, found...)
	}
	if srv != nil {
		pids = append(pids, srv.pid())
	}
	return append(pids, os.Getpid()), nil // the generator's own share
}

// runScenario runs o.scenario and records its results in rep.
func runScenario(ctx context.Context, o *options, pids []int, rep *report) error {
	w := workload(o)
	f := bench.NewFleet(bench.FleetConfig{
		Addr:      o.addr,
		Transport: o.transport,
		N:         o.conns,
		LocalIPs:  bench.LoopbackIPs(o.localIPs),
		Dialers:   o.dialers,
		Heartbeat: o.heartbeat,
		Token:     w.Token,
		Op:        w.Op,
	})
	defer f.Close()
	if o.scenario == scenarioIdle {
		stop := connectProgress(o, f)
		res, err := bench.MeasureIdle(ctx, f, pids, o.settle)
		stop()
		res.Scenario, res.Transport = o.label, o.transport
		rep.Idle = &res
		return err
	}
	stop := connectProgress(o, f)
	start := time.Now()
	err := f.Connect(ctx)
	stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(o.stderr, "connected %d in %.1fs\n", f.Connected(), time.Since(start).Seconds())
	if err := bench.Warmup(ctx, f, w, o.httpAddr, o.serverWait); err != nil {
		return err
	}
	switch o.scenario {
	case scenarioKnee:
		return runKnee(ctx, o, f, w, pids, rep)
	case scenarioLone:
		return runLone(ctx, o, f, w, pids, rep)
	}
	return runOne(ctx, o, f, w, o.rate, pids, rep)
}

// workload returns the workload of the options' scenario.
func workload(o *options) bench.Workload {
	w := bench.Workload{
		Op:        int32(o.op),
		RoomType:  o.roomType,
		Room:      o.room,
		KeyPrefix: o.keyPrefix,
		Size:      o.size,
	}
	switch o.scenario {
	case scenarioKeys, scenarioLone:
		w.Kind = bench.KindKeys
	case scenarioMids:
		w.Kind, w.Devices = bench.KindMids, o.devices
	case scenarioAll:
		w.Kind = bench.KindAll
	default:
		w.Kind = bench.KindRoom
	}
	return w
}

// runOne runs w at rate once and records the result.
func runOne(ctx context.Context, o *options, f *bench.Fleet, w bench.Workload, rate float64, pids []int, rep *report) error {
	res, err := bench.Run(ctx, f, w, bench.RunConfig{
		HTTPAddr:      o.httpAddr,
		Load:          bench.LoadConfig{Rate: rate, Duration: o.duration, Count: o.count, Concurrency: o.concurrency},
		Drain:         o.drain,
		Procs:         pids,
		Progress:      progressFunc(o),
		ProgressEvery: o.progress,
	})
	if err != nil {
		return err
	}
	res.Scenario, res.Transport = o.label, o.transport
	rep.add(res)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// runKnee runs the room at each rate until p99 passes the bound or a
// message is missing, then writes the plot.
func runKnee(ctx context.Context, o *options, f *bench.Fleet, w bench.Workload, pids []int, rep *report) error {
	for i, rate := range o.rates {
		if i > 0 && !sleep(ctx, o.pause) {
			return ctx.Err()
		}
		if err := runOne(ctx, o, f, w, rate, pids, rep); err != nil {
			return err
		}
		last := rep.Runs[len(rep.Runs)-1]
		if !last.AllDelivered() || time.Duration(last.Latency.P99*float64(time.Millisecond)) > o.p99Bound {
			rep.Knee = fmt.Sprintf("stopped at %g msg/s: %s", rate, verdict(last, o.p99Bound))
			break
		}
	}
	if rep.Knee == "" {
		rep.Knee = "every rate passed"
	}
	return writePlot(o, rep)
}

// verdict says why a knee run failed.
func verdict(r bench.Result, bound time.Duration) string {
	if !r.AllDelivered() {
		return fmt.Sprintf("%d of %d deliveries missing, %d pushes failed", r.Missing, r.Expected, r.Failed)
	}
	return fmt.Sprintf("p99 %.1f ms > %v", r.Latency.P99, bound)
}

// runLone measures lone pushes to one key, then lone room messages.
func runLone(ctx context.Context, o *options, f *bench.Fleet, w bench.Workload, pids []int, rep *report) error {
	if err := runOne(ctx, o, f, w, o.rate, pids, rep); err != nil {
		return err
	}
	if !sleep(ctx, o.pause) {
		return ctx.Err()
	}
	w.Kind = bench.KindRoom
	return runOne(ctx, o, f, w, o.rate, pids, rep)
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
