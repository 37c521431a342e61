package comet

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
)

// sessionsChunk is the most sessions sent to logic in one Sessions call.
const sessionsChunk = 1000

// ReportNow asks the report loop for a report at once, without waiting
// for the next ReportInterval: for example when the link to logic came
// back, so that a restarted logic knows the node (and its sessions)
// without delay. It does not block; requests made while one is pending
// are merged.
func (cm *Comet) ReportNow() {
	select {
	case cm.reportNow <- struct{}{}:
	default:
	}
}

// Registered returns a channel closed once a report to logic succeeded:
// from then on the node is in logic's registry, and jobs can find it. It
// is never closed when ReportInterval is negative (no reports).
func (cm *Comet) Registered() <-chan struct{} { return cm.registered }

// reportLoop reports to logic at once and then every ReportInterval, and
// whenever ReportNow asks, until the comet stops. A failing report is
// logged when reports start failing and when they recover, not every
// time.
func (cm *Comet) reportLoop() {
	defer cm.bg.Done()
	t := time.NewTicker(cm.cfg.ReportInterval)
	defer t.Stop()
	failing, registered := false, false
	for {
		err := cm.report(cm.ctx)
		if err == nil && !registered {
			registered = true
			close(cm.registered)
		}
		switch {
		case err != nil && !failing:
			cm.logger.Warn("comet: report to logic failed", "err", err)
		case err == nil && failing:
			cm.logger.Info("comet: report to logic works again")
		}
		failing = err != nil
		select {
		case <-t.C:
		case <-cm.reportNow:
		case <-cm.done:
			return
		}
	}
}

// report sends logic this node's metadata, connection and IP counts and
// per-room counts, keeps the online counts logic returns for heartbeat
// replies, and re-sends every session when logic did not know this node
// or restarted (its epoch changed).
func (cm *Comet) report(ctx context.Context) error {
	cm.reportMu.Lock()
	defer cm.reportMu.Unlock()
	rooms := make(map[string]int32)
	conns := 0
	for _, b := range cm.buckets {
		conns += b.count(rooms)
	}
	req := logicrpc.ReportReq{Node: cm.nodeInfo(conns), RoomCount: rooms}
	cctx, cancel := context.WithTimeout(ctx, cm.cfg.LogicTimeout)
	rep, err := cm.logic.Report(cctx, &req)
	cancel()
	if err != nil {
		return fmt.Errorf("comet: report: %w", err)
	}
	cm.applyCounts(rooms, rep.RoomCount)
	if !rep.Known || (cm.epoch != 0 && rep.Epoch != cm.epoch) {
		cm.resend = true
	}
	cm.epoch = rep.Epoch
	if cm.resend {
		if err := cm.resendSessions(ctx); err != nil {
			return err
		}
		cm.resend = false
	}
	return nil
}

// applyCounts stores the online count of each room of this node: the
// cluster-wide count when logic reported it, else this node's.
func (cm *Comet) applyCounts(local, cluster map[string]int32) {
	counts := make(map[string]int32, len(local))
	for id, n := range local {
		if all, ok := cluster[id]; ok {
			n = all
		}
		counts[id] = n
	}
	cm.counts.Store(&counts)
}

// nodeInfo describes this node to logic.
func (cm *Comet) nodeInfo(conns int) logicrpc.NodeInfo {
	cfg := &cm.cfg
	return logicrpc.NodeInfo{
		ID:        cfg.NodeID,
		Kind:      logicrpc.KindComet,
		RPCAddr:   cm.rpcAdvertise(),
		Addrs:     cfg.Addrs,
		Hostname:  cm.hostname,
		Region:    cfg.Region,
		Zone:      cfg.Zone,
		Env:       cfg.Env,
		Version:   cfg.Version,
		Weight:    cfg.Weight,
		Offline:   cm.offline.Load(),
		ConnCount: int32(conns),
		IPCount:   int32(cm.ips.count()),
	}
}

// rpcAdvertise returns the RPC address reported to logic: RPCAdvertise
// when set, else the address of the listener given to ServeRPC with the
// host name in place of an unspecified host, or "" before ServeRPC.
func (cm *Comet) rpcAdvertise() string {
	if cm.cfg.RPCAdvertise != "" {
		return cm.cfg.RPCAdvertise
	}
	cm.mu.Lock()
	bound := cm.rpcAddr
	cm.mu.Unlock()
	if bound == nil {
		return ""
	}
	addr := bound.String()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = cm.hostname
	}
	return net.JoinHostPort(host, port)
}

// resendSessions sends logic every session of this comet, in chunks.
func (cm *Comet) resendSessions(ctx context.Context) error {
	var batch []logicrpc.Session
	for _, b := range cm.buckets {
		batch = b.sessions(batch)
		for len(batch) >= sessionsChunk {
			if err := cm.sendSessions(ctx, batch[:sessionsChunk]); err != nil {
				return err
			}
			batch = append(batch[:0], batch[sessionsChunk:]...)
		}
	}
	if len(batch) == 0 {
		return nil
	}
	return cm.sendSessions(ctx, batch)
}

// sendSessions sends one chunk of sessions.
func (cm *Comet) sendSessions(ctx context.Context, sessions []logicrpc.Session) error {
	ctx, cancel := context.WithTimeout(ctx, cm.cfg.LogicTimeout)
	defer cancel()
	req := logicrpc.SessionsReq{Server: cm.cfg.NodeID, Sessions: sessions}
	if err := cm.logic.Sessions(ctx, &req); err != nil {
		return fmt.Errorf("comet: re-send sessions: %w", err)
	}
	return nil
}
