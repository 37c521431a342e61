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

// fdReserve is how many descriptors beyond its client connections and
// HTTP callers the generator keeps for /proc reads and its own files.
const fdReserve = 30

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
	need := uint64(o.conns + fdReserve)
	if o.scenario != scenarioIdle {
		need += uint64(o.concurrency)
	}
	if need > limit {
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
	if o.selfProfile != "" {
		stopProfile, err := startSelfProfile(o.selfProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
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

// session is one scenario's run: its options, fleet and report.
type session struct {
	o    *options
	f    *bench.Fleet
	w    bench.Workload
	pids []int
	rep  *report
	prof *profiler
}

// runScenario runs o.scenario and records its results in rep.
func runScenario(ctx context.Context, o *options, pids []int, rep *report) error {
	prof, err := newProfiler(o)
	if err != nil {
		return err
	}
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
		Reader:    o.reader,
	})
	defer f.Close()
	s := &session{o: o, f: f, w: w, pids: pids, rep: rep, prof: prof}
	stop := connectProgress(o, f)
	if o.scenario == scenarioIdle {
		res, err := bench.MeasureIdle(ctx, f, pids, o.settle)
		stop()
		res.Scenario, res.Transport = o.label, o.transport
		rep.Idle = &res
		if err == nil {
			err = prof.heap(ctx, o.label)
		}
		return err
	}
	start := time.Now()
	err = f.Connect(ctx)
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
		return s.knee(ctx)
	case scenarioLone:
		return s.lone(ctx)
	case scenarioFlood:
		return s.flood(ctx)
	}
	return s.runOne(ctx, s.w, o.rate)
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
	case scenarioKeys, scenarioLone, scenarioFlood:
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
func (s *session) runOne(ctx context.Context, w bench.Workload, rate float64) error {
	o := s.o
	name := profileName(o.label, w.Kind, rate)
	before := s.serverStats(ctx)
	s.prof.begin(ctx, name, int(o.duration.Seconds()))
	res, err := bench.Run(ctx, s.f, w, bench.RunConfig{
		HTTPAddr:      o.httpAddr,
		Load:          bench.LoadConfig{Rate: rate, Duration: o.duration, Count: o.count, Concurrency: o.concurrency},
		Drain:         o.drain,
		Procs:         s.pids,
		Progress:      progressFunc(o),
		ProgressEvery: o.progress,
	})
	if perr := s.prof.end(ctx, name); perr != nil {
		fmt.Fprintln(o.stderr, "warning:", perr)
	}
	if err != nil {
		return err
	}
	res.Scenario, res.Transport = o.label, o.transport
	s.rep.add(res)
	if after := s.serverStats(ctx); before != nil && after != nil {
		s.rep.Drops = append(s.rep.Drops, dropsBetween(fmt.Sprintf("%s %s at %s", o.label, w.Kind, rateLabel(rate)), before, after))
	}
	return ctx.Err()
}

// serverStats reads the server's counters when -server-pprof names its
// debug address; nil when it does not or the read fails (with a warning).
func (s *session) serverStats(ctx context.Context) *serverStats {
	if s.o.serverPprof == "" {
		return nil
	}
	st, err := readServerStats(ctx, s.o.serverPprof)
	if err != nil {
		fmt.Fprintln(s.o.stderr, "warning:", err)
		return nil
	}
	return st
}

// knee runs the room at each rate until p99 passes the bound or a message
// is missing, then writes the plot.
func (s *session) knee(ctx context.Context) error {
	o := s.o
	for i, rate := range o.rates {
		if i > 0 && !sleep(ctx, o.pause) {
			return ctx.Err()
		}
		if err := s.runOne(ctx, s.w, rate); err != nil {
			return err
		}
		last := s.rep.Runs[len(s.rep.Runs)-1]
		if !last.AllDelivered() || time.Duration(last.Latency.P99*float64(time.Millisecond)) > o.p99Bound {
			if s.rep.Knee == "" {
				s.rep.Knee = fmt.Sprintf("failed first at %g msg/s: %s", rate, verdict(last, o.p99Bound))
			}
			if !o.keepGoing {
				break
			}
		}
	}
	if s.rep.Knee == "" {
		s.rep.Knee = "every rate passed"
	}
	return writePlot(o, s.rep)
}

// verdict says why a knee run failed.
func verdict(r bench.Result, bound time.Duration) string {
	if !r.AllDelivered() {
		return fmt.Sprintf("%d of %d deliveries missing, %d pushes failed", r.Missing, r.Expected, r.Failed)
	}
	return fmt.Sprintf("p99 %.1f ms > %v", r.Latency.P99, bound)
}

// lone measures lone pushes to one key, then lone room messages.
func (s *session) lone(ctx context.Context) error {
	if err := s.runOne(ctx, s.w, s.o.rate); err != nil {
		return err
	}
	if !sleep(ctx, s.o.pause) {
		return ctx.Err()
	}
	w := s.w
	w.Kind = bench.KindRoom
	return s.runOne(ctx, w, s.o.rate)
}

// errLost reports accepted pushes that did not arrive.
var errLost = errors.New("accepted pushes lost")

// flood pushes by key to the one connection and fails unless every push
// answered with code 0 arrived.
func (s *session) flood(ctx context.Context) error {
	if err := s.runOne(ctx, s.w, s.o.rate); err != nil {
		return err
	}
	r := s.rep.Runs[len(s.rep.Runs)-1]
	if !r.AllDelivered() {
		return fmt.Errorf("%w: %d of %d deliveries missing, %d pushes failed", errLost, r.Missing, r.Expected, r.Failed)
	}
	return nil
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

// rateLabel formats an offered rate for a line of text.
func rateLabel(rate float64) string {
	if rate == 0 {
		return "closed loop"
	}
	return fmt.Sprintf("%g/s", rate)
}
