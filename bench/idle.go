package bench

import (
	"context"
	"time"
)

// IdleProc is one server process's memory before and after the idle
// connections opened.
type IdleProc struct {
	Pid         int     `json:"pid"`
	Name        string  `json:"name"`
	RSSBeforeMB float64 `json:"rss_before_mb"`
	RSSAfterMB  float64 `json:"rss_after_mb"`
	PSSAfterMB  float64 `json:"pss_after_mb"` // RSS with shared pages (the executable's) split among their processes
	KBPerConn   float64 `json:"kb_per_conn"`  // RSS growth / connections, in KiB
	FDs         int     `json:"fds"`
}

// IdleResult is what MeasureIdle measured.
type IdleResult struct {
	Scenario       string     `json:"scenario"`
	Transport      string     `json:"transport"`
	Conns          int        `json:"conns"`
	ConnectSeconds float64    `json:"connect_seconds"`
	SettleSeconds  float64    `json:"settle_seconds"`
	Lost           uint64     `json:"lost_conns"`
	Procs          []IdleProc `json:"procs"`
}

// MeasureIdle samples the RSS of the processes pids, connects the
// receivers, waits settle (so the servers' collector and scavenger can
// run; the connections' heartbeats continue), samples again, and returns
// the growth per connection. The connections stay open; the caller closes
// them.
func MeasureIdle(ctx context.Context, f Receivers, pids []int, settle time.Duration) (IdleResult, error) {
	before := sampleProcs(pids)
	start := time.Now()
	err := f.Connect(ctx)
	res := IdleResult{Conns: f.Connected(), ConnectSeconds: time.Since(start).Seconds(), SettleSeconds: settle.Seconds()}
	if err != nil {
		return res, err
	}
	t := time.NewTimer(settle)
	select {
	case <-ctx.Done():
		t.Stop()
		return res, ctx.Err()
	case <-t.C:
	}
	after := sampleProcs(pids)
	if err := f.Collect(nil); err != nil {
		return res, err
	}
	res.Lost = f.Lost()
	for _, pid := range pids {
		b, okb := before[pid]
		a, oka := after[pid]
		if !okb || !oka {
			continue
		}
		p := IdleProc{Pid: pid, Name: a.Name, RSSBeforeMB: mb(b.RSS), RSSAfterMB: mb(a.RSS), PSSAfterMB: mb(a.PSS), FDs: a.FDs}
		if res.Conns > 0 {
			p.KBPerConn = float64(a.RSS-b.RSS) / float64(res.Conns) / 1024
		}
		res.Procs = append(res.Procs, p)
	}
	return res, nil
}
