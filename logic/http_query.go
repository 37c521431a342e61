package logic

import (
	"context"
	"net/http"
	"strings"
)

// queryParams parses r's query; on error it answers -400 and returns false.
func (l *Logic) queryParams(w http.ResponseWriter, r *http.Request, p *params) bool {
	err := parseParams(r.URL.RawQuery, p)
	if err == nil {
		err = l.checkLimits(p)
	}
	if err != nil {
		l.writeRequestErr(w, err)
		return false
	}
	return true
}

// handleOnlineTop serves GET /goim/online/top?type=&limit=
func (l *Logic) handleOnlineTop(w http.ResponseWriter, r *http.Request) {
	var p params
	if !l.queryParams(w, r, &p) {
		return
	}
	switch {
	case p.typ == "":
		l.writeRequestErr(w, missing("type"))
	case !p.hasLimit:
		l.writeRequestErr(w, missing("limit"))
	default:
		writeData(w, l.reg.onlineTop(p.typ, p.limit, l.cfg.Now()))
	}
}

// handleOnlineRoom serves GET /goim/online/room?type=&rooms=..
func (l *Logic) handleOnlineRoom(w http.ResponseWriter, r *http.Request) {
	var p params
	if !l.queryParams(w, r, &p) {
		return
	}
	switch {
	case p.typ == "":
		l.writeRequestErr(w, missing("type"))
	case len(p.rooms) == 0:
		l.writeRequestErr(w, missing("rooms"))
	default:
		writeData(w, l.reg.onlineRooms(p.typ, p.rooms, l.cfg.Now()))
	}
}

// handleOnlineTotal serves GET /goim/online/total.
func (l *Logic) handleOnlineTotal(w http.ResponseWriter, _ *http.Request) {
	writeData(w, l.reg.onlineTotal(l.cfg.Now()))
}

// handleNodesWeighted serves GET /goim/nodes/weighted?platform=
func (l *Logic) handleNodesWeighted(w http.ResponseWriter, r *http.Request) {
	var p params
	if !l.queryParams(w, r, &p) {
		return
	}
	region := p.region
	if l.cfg.RegionOf != nil {
		region = l.cfg.RegionOf(r)
	}
	web := strings.EqualFold(p.platform, PlatformWeb)
	writeData(w, l.nodesWeighted(r.Context(), region, web))
}

// nodesWeighted returns the /nodes/weighted answer for a caller in region.
func (l *Logic) nodesWeighted(ctx context.Context, region string, web bool) NodesWeighted {
	c := &l.cfg
	nodes, picked := l.reg.pick(region, c.RegionFactor, web, c.HostDomain, c.Now())
	if picked != "" {
		l.nodes.picked(ctx, picked)
	}
	if len(nodes) == 0 {
		nodes = []string{c.DefaultDomain}
	}
	return NodesWeighted{
		Domain:       c.DefaultDomain,
		TCPPort:      max(c.TCPPort, 0), // negative: not offered
		WSPort:       max(c.WSPort, 0),
		WSSPort:      max(c.WSSPort, 0),
		Heartbeat:    int(c.Heartbeat.Seconds()),
		HeartbeatMax: c.HeartbeatMax,
		Nodes:        nodes,
		Backoff:      c.Backoff,
	}
}

// handleNodesInstances serves GET /goim/nodes/instances and
// GET /nodes/instances.
func (l *Logic) handleNodesInstances(w http.ResponseWriter, _ *http.Request) {
	writeData(w, l.reg.instances(l.cfg.Now()))
}
