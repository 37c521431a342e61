package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// serverStats is the part of the server's /debug/stats (cmd/goim's debug
// address) the generator reports: the messages the tiers dropped.
type serverStats struct {
	Comet struct {
		Drops map[string]uint64 `json:"Drops"`
	} `json:"comet"`
	Job jobDrops `json:"job"`
}

// jobDrops are the job's drop counters.
type jobDrops struct {
	DroppedQueueFull uint64 `json:"DroppedQueueFull"`
	DroppedSendError uint64 `json:"DroppedSendError"`
	DroppedNoComet   uint64 `json:"DroppedNoComet"`
	DroppedCometGone uint64 `json:"DroppedCometGone"`
	DroppedShutdown  uint64 `json:"DroppedShutdown"`
}

// serverDrops are the drops the servers counted during one run.
type serverDrops struct {
	Label string            `json:"label"`
	Comet map[string]uint64 `json:"comet,omitempty"` // by reason
	Job   uint64            `json:"job"`
}

// readServerStats reads /debug/stats from the debug address addr.
func readServerStats(ctx context.Context, addr string) (*serverStats, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/stats", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("debug stats: %s", resp.Status)
	}
	var st serverStats
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st); err != nil {
		return nil, fmt.Errorf("debug stats: %w", err)
	}
	return &st, nil
}

// dropsBetween returns the drops counted between two readings.
func dropsBetween(label string, before, after *serverStats) serverDrops {
	d := serverDrops{Label: label, Comet: map[string]uint64{}}
	for reason, n := range after.Comet.Drops {
		if n > before.Comet.Drops[reason] {
			d.Comet[reason] = n - before.Comet.Drops[reason]
		}
	}
	d.Job = after.Job.total() - before.Job.total()
	return d
}

// total sums the job's drop counters.
func (j jobDrops) total() uint64 {
	return j.DroppedQueueFull + j.DroppedSendError + j.DroppedNoComet + j.DroppedCometGone + j.DroppedShutdown
}

// String formats the drops for the table.
func (d serverDrops) String() string {
	var parts []string
	for reason, n := range d.Comet {
		parts = append(parts, fmt.Sprintf("%s %d", reason, n))
	}
	sort.Strings(parts)
	comet := "none"
	if len(parts) > 0 {
		comet = strings.Join(parts, ", ")
	}
	return fmt.Sprintf("%s: comet drops: %s; job drops: %d", d.Label, comet, d.Job)
}
