package cli

import (
	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/server"
)

// CometTier is a running comet tier, as a Group drives it.
type CometTier struct {
	*server.CometNode
}

// addComet adds the started comet n to g.
func (g *Group) addComet(n *server.CometNode) *CometTier {
	t := &CometTier{n}
	g.Add(t)
	g.watch(t.Name(), n.Err())
	return t
}

// Name implements Tier.
func (t *CometTier) Name() string { return "comet" }

// CometStats is comet.Stats with readable reason names, for
// /debug/stats.
type CometStats struct {
	comet.Stats
	Drops  map[string]uint64
	Closes map[string]uint64
}

// Stats implements Tier.
func (t *CometTier) Stats() any {
	st := t.Comet().Stats()
	out := CometStats{Stats: st, Drops: map[string]uint64{}, Closes: map[string]uint64{}}
	for r, n := range st.Drops {
		out.Drops[r.String()] = n
	}
	for r, n := range st.Closes {
		out.Closes[r.String()] = n
	}
	return out
}

// StatsAttrs implements Tier.
func (t *CometTier) StatsAttrs() []any {
	st := t.Comet().Stats()
	var drops, closes uint64
	for _, n := range st.Drops {
		drops += n
	}
	for _, n := range st.Closes {
		closes += n
	}
	return append([]any{"conns", st.Conns, "tcp", st.TCPConns, "ws", st.WSConns, "rooms", st.Rooms, "ips", st.IPs,
		"accepted", st.Accepted, "pushes", st.Pushes, "enqueued", st.Enqueued, "key_misses", st.KeyMisses,
		"drops", drops, "closes", closes, "bad_batches", st.BadBatches,
		"closes_ip_limit", st.Closes[comet.CloseIPLimit], "closes_auth_rate", st.Closes[comet.CloseAuthRate],
		"closes_msg_rate", st.Closes[comet.CloseMsgRate], "closes_room_too_long", st.Closes[comet.CloseRoomTooLong]},
		rpcStatsAttrs(t.Comet().RPCStats())...)
}
