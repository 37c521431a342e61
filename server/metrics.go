package server

import (
	"strings"

	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/job"
	"github.com/goimx/goim/logic"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/metrics"
)

// This file maps each tier's Stats onto Prometheus series, at scrape
// time: nothing here runs per message. Every series is listed in
// docs/operations.md; keep the two together.

// boolValue is 1 for true, 0 for false.
func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// labelValue turns a reason in words ("queue full") into a label value
// ("queue_full").
func labelValue(s string) string { return strings.ReplaceAll(s, " ", "_") }

// collectLogic writes the series of a logic tier.
func collectLogic(w *metrics.Writer, l *logic.Logic) {
	s := l.Stats()
	w.Family("goim_logic_pushes_total", metrics.TypeCounter,
		"Pushes through the HTTP push API or the Push methods, by endpoint and result code (0 accepted by a job for every comet concerned, -500 failed).")
	for _, e := range []struct {
		name     string
		ok, fail uint64
	}{
		{"keys", s.Pushes.Keys, s.PushFailures.Keys},
		{"mids", s.Pushes.Mids, s.PushFailures.Mids},
		{"room", s.Pushes.Room, s.PushFailures.Room},
		{"all", s.Pushes.All, s.PushFailures.All},
	} {
		w.Sample("goim_logic_pushes_total", float64(e.ok), "endpoint", e.name, "code", "0")
		w.Sample("goim_logic_pushes_total", float64(e.fail), "endpoint", e.name, "code", "-500")
	}
	w.Counter("goim_logic_http_bad_requests_total", "HTTP API answers -400 (bad parameter, body too large, wrong method, unknown path).", s.BadRequests)
	w.Counter("goim_logic_http_over_limit_total", "HTTP API answers -400 for a limit (too many targets, body or room id too long); counted in bad requests too.", s.OverLimit)
	w.Counter("goim_logic_http_unauthorized_total", "HTTP API answers -401: no valid API key.", s.Unauthorized)
	w.Family("goim_logic_auths_total", metrics.TypeCounter, "Client auths (Connect calls from comets), by result.")
	w.Sample("goim_logic_auths_total", float64(s.Connects), "result", "ok")
	w.Sample("goim_logic_auths_total", float64(s.ConnectsRefused), "result", "refused")
	w.Counter("goim_logic_disconnects_total", "Disconnect calls from comets answered without error.", s.Disconnects)
	w.Counter("goim_logic_heartbeats_total", "Heartbeat calls from comets answered without error.", s.Heartbeats)
	if s.Sessions >= 0 {
		w.Gauge("goim_logic_sessions", "Sessions in the in-memory session store, expired ones not yet swept included.", float64(s.Sessions))
	}
	w.Family("goim_logic_nodes", metrics.TypeGauge, "Live nodes in the registry, by kind and state.")
	w.Sample("goim_logic_nodes", float64(s.Comets), "kind", "comet", "state", "any")
	w.Sample("goim_logic_nodes", float64(s.Jobs), "kind", "job", "state", "online")
	w.Sample("goim_logic_nodes", float64(s.JobsOffline), "kind", "job", "state", "offline")
	w.Gauge("goim_logic_rooms", "Rooms with at least one connection on a live comet.", float64(s.Rooms))
	store := "memory"
	if l.Config().Redis != "" {
		store = "redis"
	}
	w.Counter("goim_logic_store_operations_total", "Round trips to the shared store (Redis); the in-memory stores make none.", s.StoreOps, "store", store)
	w.Counter("goim_logic_store_errors_total", "Store round trips that failed (Redis unreachable, timed out or answering an error).", s.StoreErrors, "store", store)
	w.Family("goim_logic_rpc_link_up", metrics.TypeGauge, "Whether logic's RPC link to a peer is up (1) or down (0), by peer.")
	for _, jl := range s.JobLinks {
		w.Sample("goim_logic_rpc_link_up", boolValue(jl.Connected), "peer", "job", "id", jl.ID, "addr", jl.Addr)
	}
}

// collectComet writes the series of a comet tier, with the state of its
// links to logic.
func collectComet(w *metrics.Writer, cm *comet.Comet, logicLinks []logicrpc.LinkState) {
	s := cm.Stats()
	w.Family("goim_comet_connections", metrics.TypeGauge, "Authenticated client connections now, by transport (TLS included).")
	w.Sample("goim_comet_connections", float64(s.TCPConns), "transport", "tcp")
	w.Sample("goim_comet_connections", float64(s.WSConns), "transport", "ws")
	w.Counter("goim_comet_connections_accepted_total", "Client connections accepted (before auth).", s.Accepted)
	w.Gauge("goim_comet_rooms", "Distinct rooms with a connection on this comet.", float64(s.Rooms))
	w.Gauge("goim_comet_ips", "Distinct remote IPs of the connections.", float64(s.IPs))
	w.Counter("goim_comet_push_requests_total", "Push requests served (to keys, to a room, to all).", s.Pushes)
	w.Counter("goim_comet_deliveries_total", "Messages put on connection send queues (one per connection reached).", s.Enqueued)
	w.Counter("goim_comet_key_misses_total", "Pushed keys not held by this comet.", s.KeyMisses)
	w.Counter("goim_comet_bad_batches_total", "Room batches refused as malformed, written to no client.", s.BadBatches)
	w.Family("goim_comet_drops_total", metrics.TypeCounter, "Messages not queued to a connection, by reason.")
	for _, r := range []comet.DropReason{comet.DropQueueFull, comet.DropClosed} {
		w.Sample("goim_comet_drops_total", float64(s.Drops[r]), "reason", labelValue(r.String()))
	}
	w.Family("goim_comet_closes_total", metrics.TypeCounter, "Closed client connections, by reason (slow_consumer: a full send queue closed it).")
	for r := comet.CloseClient; !strings.HasPrefix(r.String(), "CloseReason("); r++ {
		w.Sample("goim_comet_closes_total", float64(s.Closes[r]), "reason", labelValue(r.String()))
	}
	w.Histogram("goim_comet_push_latency_seconds",
		"End-to-end push latency: from logic accepting the push (logic's clock) to the write that carried it to a client socket (this comet's clock); one observation per send-queue write, with its oldest message.",
		s.PushLatency, 1e-9)
	w.Gauge("goim_comet_draining", "Whether a drain started (1): the comet reports itself offline and closes its clients over -drain-duration.", boolValue(s.Draining))
	w.Counter("goim_comet_drained_total", "Client connections closed by drains.", s.Drained)
	w.Gauge("goim_comet_logic_reported", "Whether the comet's last report to logic succeeded (1): logic lists it.", boolValue(s.Reported))
	w.Family("goim_comet_rpc_link_up", metrics.TypeGauge, "Whether the comet's RPC link to a peer is up (1) or down (0), by peer.")
	for _, l := range logicLinks {
		w.Sample("goim_comet_rpc_link_up", boolValue(l.Connected), "peer", "logic", "addr", l.Addr)
	}
}

// collectJob writes the series of a job tier, with the state of its
// links to logic.
func collectJob(w *metrics.Writer, j *job.Job, logicLinks []logicrpc.LinkState) {
	s := j.Stats()
	w.Family("goim_job_pushes_total", metrics.TypeCounter, "Pushes accepted from logic, by type.")
	w.Sample("goim_job_pushes_total", float64(s.PushKeys), "type", "keys")
	w.Sample("goim_job_pushes_total", float64(s.PushRoom), "type", "room")
	w.Sample("goim_job_pushes_total", float64(s.PushAll), "type", "all")
	w.Family("goim_job_rejected_total", metrics.TypeCounter, "Pushes refused, by reason (closed: shutting down; bad: malformed; unknown_comet: keys on a comet the job does not know).")
	w.Sample("goim_job_rejected_total", float64(s.RejectedClosed), "reason", "closed")
	w.Sample("goim_job_rejected_total", float64(s.RejectedBad), "reason", "bad")
	w.Sample("goim_job_rejected_total", float64(s.RejectedUnknownComet), "reason", "unknown_comet")
	w.Counter("goim_job_room_batches_total", "Room batches encoded (each fanned out to every comet).", s.Batches)
	w.Histogram("goim_job_room_batch_size_messages", "Room batches by their number of messages.", s.BatchSizes, 1)
	w.Counter("goim_job_room_batch_messages_total", "Room messages in those batches; divided by batches it is the mean batch size.", s.BatchedMsgs)
	w.Counter("goim_job_deliveries_total", "Requests handed to a comet without error.", s.Delivered)
	w.Counter("goim_job_delivered_messages_total", "Messages in the requests handed to a comet without error.", s.DeliveredMsgs)
	w.Family("goim_job_drops_total", metrics.TypeCounter, "Messages dropped, by reason.")
	for _, d := range []struct {
		reason string
		n      uint64
	}{
		{"queue_full", s.DroppedQueueFull},
		{"send_error", s.DroppedSendError},
		{"no_comet", s.DroppedNoComet},
		{"comet_gone", s.DroppedCometGone},
		{"shutdown", s.DroppedShutdown},
	} {
		w.Sample("goim_job_drops_total", float64(d.n), "reason", d.reason)
	}
	w.Gauge("goim_job_rooms", "Rooms with state (a pending batch, one in flight or recent traffic).", float64(s.Rooms))
	w.Family("goim_job_comet_queue_depth", metrics.TypeGauge, "Requests waiting in the queue to each comet.")
	for _, c := range s.Comets {
		w.Sample("goim_job_comet_queue_depth", float64(c.Queued), "comet", c.ID, "addr", c.Addr)
	}
	w.Family("goim_job_comet_deliveries_total", metrics.TypeCounter, "Requests handed to each comet without error.")
	for _, c := range s.Comets {
		w.Sample("goim_job_comet_deliveries_total", float64(c.Delivered), "comet", c.ID, "addr", c.Addr)
	}
	w.Family("goim_job_comet_drops_total", metrics.TypeCounter, "Messages dropped for each comet (full queue, send error, comet gone, shutdown).")
	for _, c := range s.Comets {
		w.Sample("goim_job_comet_drops_total", float64(c.Dropped), "comet", c.ID, "addr", c.Addr)
	}
	w.Family("goim_job_rpc_link_up", metrics.TypeGauge, "Whether the job's RPC link to a peer is up (1) or down (0), by peer.")
	for _, l := range logicLinks {
		w.Sample("goim_job_rpc_link_up", boolValue(l.Connected), "peer", "logic", "id", "", "addr", l.Addr)
	}
	for _, c := range s.Comets {
		w.Sample("goim_job_rpc_link_up", boolValue(c.Connected), "peer", "comet", "id", c.ID, "addr", c.Addr)
	}
}
