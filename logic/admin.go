package logic

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/logic/logicrpc"
)

// DrainAnswer is the data of a POST /goim/admin/comets/{id}/drain answer.
type DrainAnswer struct {
	Comet           string `json:"comet"`            // the comet's node id
	Conns           int32  `json:"conns"`            // connections the drain closes (open when it started)
	DurationSeconds int64  `json:"duration_seconds"` // the pacing in effect
	Already         bool   `json:"already"`          // a drain was in progress: none was started
}

// handleDrainComet serves POST /goim/admin/comets/{id}/drain[?duration=30s]:
// it asks the live comet id, over the comet RPC at the address it
// reported, to drain (cometrpc.Drainer): report itself offline, so that
// /goim/nodes/weighted stops listing it, and close its clients paced over
// duration (the comet's -drain-duration when absent). The call uses
// Config.JobClient, the cluster's RPC client settings. An unknown comet
// is -404 (HTTP 404).
func (l *Logic) handleDrainComet(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var d time.Duration
	if s := r.URL.Query().Get("duration"); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil || v < 0 {
			l.writeBadRequest(w, http.StatusBadRequest, "duration: want a Go duration such as 30s, got "+strconv.Quote(s))
			return
		}
		d = v
	}
	node, ok := l.liveComet(id)
	if !ok || node.RPCAddr == "" {
		l.writeBadRequest(w, http.StatusNotFound, "no live comet "+strconv.Quote(id))
		return
	}
	dial := l.cfg.DialComet
	if dial == nil {
		dial = l.dialComet
	}
	c, closeFn := dial(node)
	defer closeFn()
	ctx, cancel := context.WithTimeout(r.Context(), l.cfg.PushTimeout)
	defer cancel()
	rep, err := c.Drain(ctx, &cometrpc.DrainReq{Duration: d})
	if err != nil {
		l.log.Warn("logic: drain comet failed", "comet", id, "err", err)
		writeServerErr(w, err)
		return
	}
	l.log.Info("logic: comet draining", "comet", id, "conns", rep.Conns, "duration", rep.Duration, "already", rep.Already)
	writeData(w, DrainAnswer{Comet: id, Conns: rep.Conns, DurationSeconds: int64(rep.Duration / time.Second), Already: rep.Already})
}

// dialComet is the default Config.DialComet: an RPC client to the comet's
// reported address with the cluster's client settings.
func (l *Logic) dialComet(n logicrpc.NodeInfo) (cometrpc.Drainer, func()) {
	c := cometrpc.NewClient(n.RPCAddr, l.cfg.JobClient, l.log)
	return c, func() { _ = c.Close() }
}

// liveComet returns the registry's entry of live comet id.
func (l *Logic) liveComet(id string) (logicrpc.NodeInfo, bool) {
	for _, n := range l.reg.nodes(logicrpc.KindComet, l.cfg.Now()) {
		if n.ID == id {
			return n, true
		}
	}
	return logicrpc.NodeInfo{}, false
}
