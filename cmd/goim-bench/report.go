package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/goimx/goim/bench"
)

// machine describes where the run happened.
type machine struct {
	CPUs        int    `json:"cpus"`
	MemTotalMB  int64  `json:"mem_total_mb"`
	GoVersion   string `json:"go_version"`
	LoadStart   string `json:"loadavg_start"`
	LoadEnd     string `json:"loadavg_end"`
	StartedAt   string `json:"started_at"`
	FileLimit   uint64 `json:"file_limit"`
	CommandLine string `json:"command_line"`
}

// report is everything a run prints and writes as JSON.
type report struct {
	Machine machine           `json:"machine"`
	Pids    []int             `json:"pids,omitempty"`
	Idle    *bench.IdleResult `json:"idle,omitempty"`
	Connect *connectResult    `json:"connect,omitempty"`
	Runs    []bench.Result    `json:"runs,omitempty"`
	Knee    string            `json:"knee,omitempty"`
	Drops   []serverDrops     `json:"server_drops,omitempty"`
	Error   string            `json:"error,omitempty"`
}

// connectResult is how the connections of a push scenario were opened.
type connectResult struct {
	Conns   int     `json:"conns"`
	Seconds float64 `json:"seconds"`
	PerSec  float64 `json:"per_sec"`
}

// newReport starts a report, recording the machine.
func newReport(o *options, pids []int) *report {
	limit, _ := bench.RaiseFileLimit()
	return &report{
		Pids: pids,
		Machine: machine{
			CPUs:        runtime.NumCPU(),
			MemTotalMB:  memTotalMB(),
			GoVersion:   runtime.Version(),
			LoadStart:   loadAvg(),
			StartedAt:   time.Now().UTC().Format(time.RFC3339),
			FileLimit:   limit,
			CommandLine: strings.Join(os.Args, " "),
		},
	}
}

// add records one run's result.
func (r *report) add(res bench.Result) { r.Runs = append(r.Runs, res) }

// write prints the final table to stdout and writes the JSON file.
func (r *report) write(o *options) error {
	r.Machine.LoadEnd = loadAvg()
	var b bytes.Buffer
	if r.Idle != nil {
		writeIdle(&b, r.Idle)
	}
	if c := r.Connect; c != nil {
		fmt.Fprintf(&b, "connected %d in %.1fs (%.0f/s)\n", c.Conns, c.Seconds, c.PerSec)
	}
	if len(r.Runs) > 0 {
		if err := bench.WriteTable(&b, r.Runs); err != nil {
			return err
		}
	}
	if len(r.Drops) > 0 {
		b.WriteString("\nserver counters (/debug/stats), per run:\n")
		for _, d := range r.Drops {
			fmt.Fprintf(&b, "  %s\n", d)
		}
	}
	if r.Knee != "" {
		fmt.Fprintf(&b, "\nknee: %s\n", r.Knee)
	}
	fmt.Fprintf(&b, "\nmachine: %d CPUs, %d MB, %s, load %s -> %s\n", r.Machine.CPUs, r.Machine.MemTotalMB, r.Machine.GoVersion, r.Machine.LoadStart, r.Machine.LoadEnd)
	if o.jsonOut != "-" {
		if _, err := o.stdout.Write(b.Bytes()); err != nil {
			return err
		}
	}
	if o.jsonOut == "" {
		return nil
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	js = append(js, '\n')
	if o.jsonOut == "-" {
		_, err = o.stdout.Write(js)
		return err
	}
	return os.WriteFile(o.jsonOut, js, 0o644)
}

// writeIdle prints the idle scenario's table, then one line per process
// name seen more than once, summing its processes.
func writeIdle(w io.Writer, res *bench.IdleResult) {
	fmt.Fprintf(w, "idle: %d %s connections, connected in %.1fs (%.0f/s), settled %.0fs, %d lost\n",
		res.Conns, res.Transport, res.ConnectSeconds, perSecond(res.Conns, res.ConnectSeconds), res.SettleSeconds, res.Lost)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pid\tname\tRSS before MB\tRSS after MB\tPSS after MB\tKB/conn\tfds\t")
	type total struct {
		n                  int
		before, after, pss float64
	}
	totals := map[string]*total{}
	var names []string
	for _, p := range res.Procs {
		fmt.Fprintf(tw, "%d\t%s\t%.1f\t%.1f\t%.1f\t%.2f\t%d\t\n", p.Pid, p.Name, p.RSSBeforeMB, p.RSSAfterMB, p.PSSAfterMB, p.KBPerConn, p.FDs)
		t := totals[p.Name]
		if t == nil {
			t = &total{}
			totals[p.Name] = t
			names = append(names, p.Name)
		}
		t.n++
		t.before += p.RSSBeforeMB
		t.after += p.RSSAfterMB
		t.pss += p.PSSAfterMB
	}
	tw.Flush()
	for _, name := range names {
		t := totals[name]
		if t.n < 2 {
			continue
		}
		fmt.Fprintf(w, "all %d %s: RSS %.1f -> %.1f MB (%.2f KB per connection of the run, bases included), PSS after %.1f MB (%.2f KB per connection)\n",
			t.n, name, t.before, t.after, kbPerConn(t.after, res.Conns), t.pss, kbPerConn(t.pss, res.Conns))
	}
}

// kbPerConn returns megabytes spread over conns connections, in KiB each.
func kbPerConn(megabytes float64, conns int) float64 {
	if conns <= 0 {
		return 0
	}
	return megabytes * 1024 / float64(conns)
}

// perSecond returns n per the seconds given, 0 when none passed.
func perSecond(n int, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / seconds
}

// writePlot writes the knee's SVG plot when -svg is set.
func writePlot(o *options, r *report) error {
	if o.svgOut == "" {
		return nil
	}
	var pts []bench.PlotPoint
	for _, res := range r.Runs {
		pts = append(pts, bench.PlotPoint{
			Rate:      res.Rate,
			Offered:   res.Rate * float64(res.Conns),
			Delivered: res.DeliveredPerSec,
			P99:       res.Latency.P99,
			Complete:  res.AllDelivered(),
		})
	}
	title := fmt.Sprintf("room fan-out (%s), %d %s members: delivered/s and p99 vs push rate", o.label, o.conns, o.transport)
	var b bytes.Buffer
	if err := bench.WritePlot(&b, title, pts, float64(o.p99Bound)/float64(time.Millisecond)); err != nil {
		return err
	}
	return os.WriteFile(o.svgOut, b.Bytes(), 0o644)
}

// progressFunc returns the progress printer of a run, nil when -progress
// is 0.
func progressFunc(o *options) func(bench.Progress) {
	if o.progress <= 0 {
		return nil
	}
	return func(p bench.Progress) {
		behind := int64(p.Expected) - int64(p.Received)
		fmt.Fprintf(o.stderr, "[%6.1fs] conns %d lost %d | sent %d failed %d late %d | received %d of %d, behind %d | p99 %.2f ms\n",
			p.Elapsed.Seconds(), p.Conns, p.Lost, p.Sent, p.Failed, p.Late, p.Received, p.Expected, behind, float64(p.P99)/float64(time.Millisecond))
	}
}

// connectProgress prints the connection count every -progress until the
// returned function is called.
func connectProgress(o *options, f bench.Receivers) (stop func()) {
	if o.progress <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		t := time.NewTicker(o.progress)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(o.stderr, "[%6.1fs] connecting %d of %d, lost %d\n", time.Since(start).Seconds(), f.Connected(), o.conns, f.Lost())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// memTotalMB reads MemTotal from /proc/meminfo.
func memTotalMB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kb int64
	for _, line := range strings.Split(string(b), "\n") {
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
			return kb >> 10
		}
	}
	return 0
}

// loadAvg returns the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
