package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
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
	if err := checkFileLimit(o); err != nil {
		return err
	}
	if o.scenario == scenarioMember {
		return runMember(ctx, o, os.Stdin, stdout)
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

// checkFileLimit raises the open-file limit and fails if this process's
// share of the connections would not fit in it.
func checkFileLimit(o *options) error {
	limit, err := bench.RaiseFileLimit()
	if err != nil {
		return fmt.Errorf("raise the open-file limit: %w", err)
	}
	need := uint64(fdReserve + 3*o.generators) // each member's pipes
	if o.generators == 1 {
		need += uint64(o.conns)
	}
	if o.scenario != scenarioIdle && o.scenario != scenarioMember {
		need += uint64(o.concurrency)
	}
	if need > limit {
		return fmt.Errorf("%d connections need about %d descriptors, the limit is %d (spread them with -generators)", o.conns, need, limit)
	}
	return nil
}

// runMember is the main of one of the processes of -generators: it holds
// its connections and answers its parent's commands on in and out.
func runMember(ctx context.Context, o *options, in io.Reader, out io.Writer) error {
	f := bench.NewFleet(fleetConfig(o, workload(o)))
	defer f.Close()
	return bench.ServeMember(ctx, f, in, out)
}

// fleetConfig returns the configuration of this process's fleet.
func fleetConfig(o *options, w bench.Workload) bench.FleetConfig {
	return bench.FleetConfig{
		Addr:      o.addr,
		Transport: o.transport,
		N:         o.conns,
		LocalIPs:  bench.LoopbackIPRange(o.ipFirst, o.localIPs),
		Dialers:   o.dialers,
		Heartbeat: o.heartbeat,
		Token:     w.Token,
		Op:        w.Op,
		Reader:    o.reader,
	}
}

// receivers returns the connections of the run: a fleet in this process,
// or a group of -generators member processes.
func receivers(o *options, w bench.Workload) (bench.Receivers, []int, error) {
	if o.generators == 1 {
		return bench.NewFleet(fleetConfig(o, w)), nil, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("find this program for -generators: %w", err)
	}
	stderr := &lockedWriter{w: o.stderr} // one writer, several copying goroutines
	var cmds []*exec.Cmd
	for k := range o.generators {
		cmd := exec.Command(exe, memberArgs(o, k)...)
		cmd.Stderr = stderr
		cmds = append(cmds, cmd)
	}
	g, err := bench.StartGroup(cmds)
	if err != nil {
		return nil, nil, err
	}
	return g, g.Pids(), nil
}

// lockedWriter serializes the writes of several goroutines to w.
type lockedWriter struct {
	mu sync.Mutex // guards w
	w  io.Writer
}

// Write writes p to w, alone.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// memberArgs returns the command line of member k of -generators: its
// share of the connections, source addresses, keys and users of its own.
func memberArgs(o *options, k int) []string {
	per, extra := o.conns/o.generators, o.conns%o.generators
	n, first := per, k*per+min(k, extra) // connections before member k
	if k < extra {
		n++
	}
	ips, ipFirst := 0, o.ipFirst
	if o.localIPs > 0 {
		ips = o.localIPs / o.generators
		ipFirst += k * ips
	}
	return []string{
		"-scenario", scenarioMember,
		"-addr", o.addr,
		"-transport", o.transport,
		"-conns", strconv.Itoa(n),
		"-local-ips", strconv.Itoa(ips),
		"-local-ip-first", strconv.Itoa(ipFirst),
		"-dialers", strconv.Itoa(o.dialers),
		"-reader", o.reader,
		"-heartbeat", o.heartbeat.String(),
		"-op", strconv.Itoa(o.op),
		"-room-type", o.roomType,
		"-room", o.room,
		"-key-prefix", fmt.Sprintf("%s-g%d", o.keyPrefix, k),
		"-mid-base", strconv.FormatInt(o.midBase+int64(first/o.devices), 10),
		"-devices", strconv.Itoa(o.devices),
		"-max-time", o.maxTime.String(),
	}
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

// session is one scenario's run: its options, receivers and report.
type session struct {
	o    *options
	f    bench.Receivers
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
	f, memberPids, err := receivers(o, w)
	if err != nil {
		return err
	}
	defer f.Close()
	pids = append(pids, memberPids...) // the generators' share
	rep.Pids = pids
	s := &session{o: o, f: f, w: w, pids: pids, rep: rep, prof: prof}
	if err := s.connect(ctx); err != nil || o.scenario == scenarioIdle {
		return err
	}
	if err := bench.Warmup(ctx, f, w, o.httpAddr, o.serverWait); err != nil {
		return err
	}
	switch o.scenario {
	case scenarioKnee:
		return s.knee(ctx)
	case scenarioLone:
		return s.twoRuns(ctx, bench.KindRoom)
	case scenarioFlood:
		return s.flood(ctx)
	case scenarioScale:
		return s.twoRuns(ctx, bench.KindAll)
	}
	return s.runOne(ctx, s.w, o.rate)
}

// connect opens the connections: for idle and scale, measuring the
// servers' memory before and after (settled); otherwise timing it.
func (s *session) connect(ctx context.Context) error {
	o := s.o
	stop := connectProgress(o, s.f)
	if o.scenario == scenarioIdle || o.scenario == scenarioScale {
		res, err := bench.MeasureIdle(ctx, s.f, s.pids, o.settle)
		stop()
		res.Scenario, res.Transport = o.label, o.transport
		s.rep.Idle = &res
		if err == nil {
			err = s.prof.heap(ctx, o.label)
		}
		return err
	}
	start := time.Now()
	err := s.f.Connect(ctx)
	stop()
	if err != nil {
		return err
	}
	took := time.Since(start).Seconds()
	s.rep.Connect = &connectResult{Conns: s.f.Connected(), Seconds: took, PerSec: perSecond(s.f.Connected(), took)}
	return nil
}

// workload returns the workload of the options' scenario.
func workload(o *options) bench.Workload {
	w := bench.Workload{
		Op:        int32(o.op),
		RoomType:  o.roomType,
		Room:      o.room,
		KeyPrefix: o.keyPrefix,
		MidBase:   o.midBase,
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

// twoRuns runs the scenario's workload at -rate, pauses -pause, then the
// same pushes of kind second: lone (keys, then room) and scale (room on
// the connections idle measured, then all).
func (s *session) twoRuns(ctx context.Context, second string) error {
	if err := s.runOne(ctx, s.w, s.o.rate); err != nil {
		return err
	}
	if !sleep(ctx, s.o.pause) {
		return ctx.Err()
	}
	w := s.w
	w.Kind = second
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
