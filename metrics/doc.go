// Package metrics writes metrics in the Prometheus text exposition format
// (version 0.0.4) and serves them over HTTP.
//
// The tiers keep their own counters (comet.Stats, logic.Stats, job.Stats,
// rpc.ClientStats, rpc.ServerStats); nothing here is touched per message.
// At scrape time a collect function reads those Stats and writes each
// series through a Writer, which adds the # HELP and # TYPE lines of each
// family once. Handler appends the Go runtime and process metrics
// (go_*, process_*) of github.com/VictoriaMetrics/metrics.
//
// Histogram is a lock-free histogram with fixed bounds for hot paths:
// Observe is a few atomic adds and never allocates.
package metrics
