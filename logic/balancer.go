package logic

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
)

// NodesWeighted is the data of /nodes/weighted.
type NodesWeighted struct {
	Domain       string   `json:"domain"`
	TCPPort      int      `json:"tcp_port"`
	WSPort       int      `json:"ws_port"`
	WSSPort      int      `json:"wss_port"`
	Heartbeat    int      `json:"heartbeat"` // seconds
	HeartbeatMax int      `json:"heartbeat_max"`
	Nodes        []string `json:"nodes"`
	Backoff      Backoff  `json:"backoff"`
}

// PlatformWeb is the platform that gets domains from /nodes/weighted;
// every other platform gets addresses.
const PlatformWeb = "web"

// candidate is a comet being ranked by the balancer.
type candidate struct {
	e       *nodeEntry
	deficit float64
}

// pickNodes ranks the live, online comets for a new client and returns the
// best MaxNodes: web gets hostname+hostDomain of each, other platforms the
// addresses of each. The first node is counted as chosen, so the next
// caller sees it one connection fuller.
//
// A node's target share of all connections is its weight over the total
// weight; weights of nodes in region are multiplied by factor. Nodes are
// ranked by how far they are below their target share once the new client
// is counted: deficit = share*(conns+1) - nodeConns. Over many picks every
// node's connections converge to its share.
func (r *registry) pickNodes(region string, factor float64, web bool, hostDomain string, now time.Time) []string {
	nodes, _ := r.pick(region, factor, web, hostDomain, now)
	return nodes
}

// pick is pickNodes that also returns the id of the comet counted as
// chosen ("" when there is none).
func (r *registry) pick(region string, factor float64, web bool, hostDomain string, now time.Time) ([]string, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(now)
	cands := r.rankLocked(region, factor)
	if len(cands) == 0 {
		return nil, ""
	}
	cands[0].e.picks++
	var out []string
	for _, c := range cands[:min(len(cands), MaxNodes)] {
		if web {
			out = append(out, hostOf(&c.e.info)+hostDomain)
		} else {
			out = append(out, c.e.info.Addrs...)
		}
	}
	return out, cands[0].e.info.ID
}

// rankLocked returns the online comets by decreasing deficit (ties by id).
func (r *registry) rankLocked(region string, factor float64) []candidate {
	cands := make([]candidate, 0, len(r.comets))
	var totalW, totalC float64
	for _, e := range r.comets {
		if e.info.Offline {
			continue
		}
		w := nodeWeight(e, region, factor)
		totalW += w
		totalC += nodeConns(e)
		cands = append(cands, candidate{e: e})
	}
	for i := range cands {
		c := &cands[i]
		share := nodeWeight(c.e, region, factor) / totalW
		c.deficit = share*(totalC+1) - nodeConns(c.e)
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(b.deficit, a.deficit); c != 0 {
			return c
		}
		return strings.Compare(a.e.info.ID, b.e.info.ID)
	})
	return cands
}

// nodeWeight is the node's weight (at least 1), gained by factor when the
// node is in region.
func nodeWeight(e *nodeEntry, region string, factor float64) float64 {
	w := float64(max(e.info.Weight, 1))
	if region != "" && e.info.Region == region {
		w *= factor
	}
	return w
}

// nodeConns is the node's reported connections plus the clients sent to it
// since.
func nodeConns(e *nodeEntry) float64 {
	return float64(max(e.info.ConnCount, 0)) + float64(e.picks)
}

// hostOf returns the node's hostname, or its id when it reported none.
func hostOf(n *logicrpc.NodeInfo) string {
	if n.Hostname != "" {
		return n.Hostname
	}
	return n.ID
}
