package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/metrics"
)

// readyTimeout bounds one readiness check.
const readyTimeout = 2 * time.Second

// observed are the tiers one metrics port reports on: logic's HTTP port
// reports its logic (and, for a whole node, the node's comet and job
// too); a comet's or a job's metrics address reports that tier. A tier
// is set once it has started; until then it is left out.
type observed struct {
	logic atomic.Pointer[LogicNode]
	comet atomic.Pointer[CometNode]
	job   atomic.Pointer[JobNode]
}

// handlers returns /metrics, /healthz and /readyz for the tiers of o.
func (o *observed) handlers() map[string]http.Handler {
	return map[string]http.Handler{
		"/metrics": metrics.Handler(o.collect),
		"/healthz": http.HandlerFunc(serveHealthz),
		"/readyz":  http.HandlerFunc(o.serveReadyz),
	}
}

// withHandlers returns hs with o's handlers added (a new map).
func (o *observed) withHandlers(hs map[string]http.Handler) map[string]http.Handler {
	out := maps.Clone(hs)
	if out == nil {
		out = make(map[string]http.Handler)
	}
	maps.Copy(out, o.handlers())
	return out
}

// collect writes the series of every started tier of o.
func (o *observed) collect(w *metrics.Writer) {
	if t := o.logic.Load(); t != nil {
		collectLogic(w, t.l)
	}
	if t := o.comet.Load(); t != nil {
		collectComet(w, t.cm, logicLinks(t.logic, t.logicAddr))
	}
	if t := o.job.Load(); t != nil {
		collectJob(w, t.j, logicLinks(t.logic, t.logicAddr))
	}
}

// errNotStarted is the readiness error of a port whose tiers have not
// all started.
var errNotStarted = errors.New("server: starting")

// ready returns nil when every tier of o is ready to serve, else the
// reason of the first that is not.
func (o *observed) ready(ctx context.Context) error {
	l, c, j := o.logic.Load(), o.comet.Load(), o.job.Load()
	if l == nil && c == nil && j == nil {
		return errNotStarted
	}
	if l != nil {
		if err := l.l.Ready(ctx); err != nil {
			return err // "logic: not ready: ..."
		}
	}
	if c != nil {
		if !c.cm.Stats().Reported {
			return fmt.Errorf("comet: not registered with logic at %s (no report accepted yet, or reports fail)", c.logicAddr)
		}
	}
	if j != nil {
		if !logicLinked(j.logic) {
			return fmt.Errorf("job: no link to logic at %s", j.logicAddr)
		}
		if len(j.j.Stats().Comets) == 0 {
			return errors.New("job: no comet list from logic yet")
		}
	}
	return nil
}

// probeAnswer is the JSON body of /healthz and /readyz.
type probeAnswer struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// serveHealthz answers 200: the process serves HTTP.
func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	writeProbe(w, http.StatusOK, probeAnswer{Status: "ok"})
}

// serveReadyz answers 200 when the tiers are ready to serve, else 503
// with the reason.
func (o *observed) serveReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := o.ready(ctx); err != nil {
		writeProbe(w, http.StatusServiceUnavailable, probeAnswer{Status: "not ready", Reason: err.Error()})
		return
	}
	writeProbe(w, http.StatusOK, probeAnswer{Status: "ready"})
}

// writeProbe writes a probe's answer.
func writeProbe(w http.ResponseWriter, status int, a probeAnswer) {
	b, _ := json.Marshal(a) // cannot fail
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// logicLinks returns the state of the links of f to the logic nodes; a
// nil f (logic in process, described by addr) is one link, always up.
func logicLinks(f *logicrpc.Failover, addr string) []logicrpc.LinkState {
	if f == nil {
		return []logicrpc.LinkState{{Addr: addr, Connected: true}}
	}
	return f.Links()
}

// logicLinked reports whether f has a live link to a logic node; a nil f
// (logic in process) always has.
func logicLinked(f *logicrpc.Failover) bool { return f == nil || f.Connected() }
