package bench

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Latency is a latency summary in milliseconds.
type Latency struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// LatencyOf summarizes s.
func LatencyOf(s *HistSnapshot) Latency {
	return Latency{
		P50:  ms(s.Quantile(0.50)),
		P90:  ms(s.Quantile(0.90)),
		P99:  ms(s.Quantile(0.99)),
		P999: ms(s.Quantile(0.999)),
		Max:  ms(s.Max),
		Mean: ms(s.Mean()),
	}
}

// ms converts d to float milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ProcResult is one server process over a run.
type ProcResult struct {
	Pid        int     `json:"pid"`
	Name       string  `json:"name"`
	RSSStartMB float64 `json:"rss_start_mb"`
	RSSEndMB   float64 `json:"rss_end_mb"`
	RSSPeakMB  float64 `json:"rss_peak_mb"`
	CPUPercent float64 `json:"cpu_percent"` // of one core, averaged over the run
	FDs        int     `json:"fds"`
	Threads    int     `json:"threads"`
}

// Result is what a run measured.
type Result struct {
	Scenario    string  `json:"scenario"`
	Kind        string  `json:"kind"`
	Transport   string  `json:"transport"`
	Conns       int     `json:"conns"`
	Rate        float64 `json:"rate"` // offered pushes/s; 0 for closed loop
	Concurrency int     `json:"concurrency"`
	Size        int     `json:"size"`
	PushSeconds float64 `json:"push_seconds"` // from the first push to the last answer

	Sent    uint64  `json:"sent"`
	OK      uint64  `json:"ok"`
	Failed  uint64  `json:"failed"`
	Late    uint64  `json:"late"`
	MaxLate float64 `json:"max_late_ms"`
	Short   uint64  `json:"short"` // keys/mids pushes that found fewer connections than asked

	Expected  uint64 `json:"expected"`
	Delivered uint64 `json:"delivered"`
	Missing   uint64 `json:"missing"` // expected - delivered after the drain
	Stale     uint64 `json:"stale"`   // messages that arrived after their round
	Lost      uint64 `json:"lost_conns"`

	PushesPerSec    float64 `json:"pushes_per_sec"`
	DeliveredPerSec float64 `json:"delivered_per_sec"`
	Latency         Latency `json:"latency"`

	Procs    []ProcResult `json:"procs,omitempty"`
	FirstErr string       `json:"first_error,omitempty"`
}

// AllDelivered reports whether every expected delivery was made and no
// push failed.
func (r Result) AllDelivered() bool { return r.Failed == 0 && r.Missing == 0 && r.Expected > 0 }

// result assembles the Result of a run.
func (rn *run) result(ls LoadStats, received uint64, lastAt time.Time) Result {
	snap := rn.round.Hist.Snapshot()
	res := Result{
		Kind:        rn.w.Kind,
		Conns:       rn.f.Connected(),
		Rate:        rn.cfg.Load.Rate,
		Concurrency: rn.load.Concurrency(),
		Size:        rn.w.Size,
		PushSeconds: ls.Elapsed.Seconds(),
		Sent:        ls.Sent,
		OK:          ls.OK(),
		Failed:      ls.Failed,
		Late:        ls.Late,
		MaxLate:     ms(ls.MaxLate),
		Short:       rn.short.Load(),
		Expected:    rn.expected.Load(),
		Delivered:   received,
		Stale:       rn.f.Stale() - rn.stale,
		Lost:        rn.f.Lost(),
		Latency:     LatencyOf(snap),
	}
	if res.Delivered < res.Expected {
		res.Missing = res.Expected - res.Delivered
	}
	if ls.FirstErr != nil {
		res.FirstErr = ls.FirstErr.Error()
	}
	if ls.Elapsed > 0 {
		res.PushesPerSec = float64(res.OK) / ls.Elapsed.Seconds()
	}
	if span := lastAt.Sub(rn.round.Start); span > 0 {
		res.DeliveredPerSec = float64(received) / span.Seconds()
	}
	return res
}

// sampleProcs reads each pid, leaving out the unreadable ones.
func sampleProcs(pids []int) map[int]ProcSample {
	m := make(map[int]ProcSample, len(pids))
	for _, pid := range pids {
		if s, err := ReadProc(pid); err == nil {
			m[pid] = s
		}
	}
	return m
}

// procResults pairs samples taken before and after a run.
func procResults(before, after map[int]ProcSample) []ProcResult {
	out := make([]ProcResult, 0, len(before))
	for pid, b := range before {
		a, ok := after[pid]
		if !ok {
			continue
		}
		out = append(out, ProcResult{
			Pid:        pid,
			Name:       a.Name,
			RSSStartMB: mb(b.RSS),
			RSSEndMB:   mb(a.RSS),
			RSSPeakMB:  mb(a.HWM),
			CPUPercent: CPUPercent(b, a),
			FDs:        a.FDs,
			Threads:    a.Thrs,
		})
	}
	slices.SortFunc(out, func(a, b ProcResult) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), a.Pid-b.Pid)
	})
	return out
}

// mb converts bytes to MiB.
func mb(n int64) float64 { return float64(n) / (1 << 20) }

// WriteTable writes results as an aligned text table, one row per result,
// followed by one row per sampled process.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tkind\tconns\trate/s\tpushed\tfailed\tlate\texpected\tdelivered\tmissing\tpush/s\tdeliv/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
			r.Scenario, r.Kind, r.Conns, rateString(r.Rate), r.OK, r.Failed, r.Late, r.Expected, r.Delivered, r.Missing,
			r.PushesPerSec, r.DeliveredPerSec, r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeProcTable(w, results)
}

// rateString formats an offered rate; 0 is a closed loop.
func rateString(r float64) string {
	if r == 0 {
		return "closed"
	}
	return fmt.Sprintf("%g", r)
}

// writeProcTable writes the sampled processes of each result.
func writeProcTable(w io.Writer, results []Result) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	rows := 0
	for _, r := range results {
		for _, p := range r.Procs {
			if rows == 0 {
				fmt.Fprintln(tw, "scenario\trate/s\tpid\tname\tRSS start MB\tRSS end MB\tRSS peak MB\tCPU %\tfds\t")
			}
			rows++
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.1f\t%.1f\t%.1f\t%.0f\t%d\t\n",
				r.Scenario, rateString(r.Rate), p.Pid, p.Name, p.RSSStartMB, p.RSSEndMB, p.RSSPeakMB, p.CPUPercent, p.FDs)
		}
	}
	if rows == 0 {
		return nil
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		writeProcTotals(&b, r)
	}
	_, err := io.WriteString(w, "\n"+b.String())
	return err
}

// writeProcTotals writes one line per process name that r sampled more
// than once: the processes' RSS and CPU summed.
func writeProcTotals(w io.Writer, r Result) {
	for i := 0; i < len(r.Procs); {
		j := i
		var rss, cpu float64
		for ; j < len(r.Procs) && r.Procs[j].Name == r.Procs[i].Name; j++ {
			rss += r.Procs[j].RSSEndMB
			cpu += r.Procs[j].CPUPercent
		}
		if j-i > 1 {
			fmt.Fprintf(w, "%s %s at %s/s: all %d %s: RSS %.1f MB at the end, CPU %.0f %% of one core\n",
				r.Scenario, r.Kind, rateString(r.Rate), j-i, r.Procs[i].Name, rss, cpu)
		}
		i = j
	}
}
