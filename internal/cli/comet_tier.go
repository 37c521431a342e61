package cli

import (
	"context"
	"net"

	"github.com/goimx/goim/comet"
	"github.com/goimx/goim/logic/logicrpc"
)

// CometTier is a running comet tier: the Comet, its listeners and its
// logic client.
type CometTier struct {
	cm        *comet.Comet
	logic     *logicrpc.Client // nil when the comet calls logic in process
	logicAddr string
	lns       listeners
	bound     comet.BoundAddrs
	tcp       []net.Listener // plain and TLS TCP client listeners
	ws        []net.Listener // plain and TLS WebSocket listeners
	rpc       net.Listener
}

// listen binds every listener of cfg; on error it closes those bound.
func (t *CometTier) listen(cfg *comet.Config) error {
	err := t.listenAll(cfg)
	if err != nil {
		t.lns.close()
	}
	return err
}

func (t *CometTier) listenAll(cfg *comet.Config) error {
	for _, a := range cfg.TCPAddrs {
		if a == NoListen {
			continue
		}
		ln, err := t.lns.listen("comet tcp", a, nil)
		if err != nil {
			return err
		}
		t.tcp = append(t.tcp, ln)
		t.bound.TCP = append(t.bound.TCP, ln.Addr())
	}
	bind := []struct {
		addr  string
		tls   bool
		into  *[]net.Listener
		bound *net.Addr
		what  string
	}{
		{cfg.WSAddr, false, &t.ws, &t.bound.WS, "comet ws"},
		{cfg.WSSAddr, true, &t.ws, &t.bound.WSS, "comet wss"},
		{cfg.TCPTLSAddr, true, &t.tcp, &t.bound.TCPTLS, "comet tcp-tls"},
	}
	for _, b := range bind {
		if b.addr == "" || b.addr == NoListen {
			continue
		}
		tlsCfg := cfg.TLSConfig
		if !b.tls {
			tlsCfg = nil
		}
		ln, err := t.lns.listen(b.what, b.addr, tlsCfg)
		if err != nil {
			return err
		}
		*b.into = append(*b.into, ln)
		*b.bound = ln.Addr()
	}
	ln, err := t.lns.listen("comet rpc", cfg.RPCAddr, nil)
	if err != nil {
		return err
	}
	t.rpc, t.bound.RPC = ln, ln.Addr()
	return nil
}

// serve starts the serve loops.
func (t *CometTier) serve(g *Group) {
	for _, ln := range t.tcp {
		g.Go("comet tcp "+ln.Addr().String(), func() error { return t.cm.ServeTCP(ln) }, comet.ErrServerClosed)
	}
	for _, ln := range t.ws {
		g.Go("comet ws "+ln.Addr().String(), func() error { return t.cm.ServeWS(ln) }, comet.ErrServerClosed)
	}
	g.Go("comet rpc", func() error { return t.cm.ServeRPC(t.rpc) }, comet.ErrServerClosed)
}

// startAttrs returns the attributes of the "comet: started" line.
func (t *CometTier) startAttrs(cfg comet.Config) []any {
	tcp := make([]string, len(t.bound.TCP))
	for i, a := range t.bound.TCP {
		tcp[i] = a.String()
	}
	return []any{
		"node_id", cfg.NodeID, "tcp", tcp, "ws", addrString(t.bound.WS), "wss", addrString(t.bound.WSS),
		"tcp_tls", addrString(t.bound.TCPTLS), "rpc", addrString(t.bound.RPC), "rpc_advertise", cfg.RPCAdvertise,
		"logic", t.logicAddr, "report_interval", cfg.ReportInterval,
	}
}

// Comet returns the running Comet.
func (t *CometTier) Comet() *comet.Comet { return t.cm }

// Addrs returns the bound addresses.
func (t *CometTier) Addrs() comet.BoundAddrs { return t.bound }

// Name implements Tier.
func (t *CometTier) Name() string { return "comet" }

// Shutdown implements Tier: the comet stops accepting, closes every
// client (WebSocket clients get a close frame), tells logic of each
// (Disconnect), then the logic client closes.
func (t *CometTier) Shutdown(ctx context.Context) error {
	err := t.cm.Shutdown(ctx)
	t.closeLogic()
	return err
}

// Close implements Tier.
func (t *CometTier) Close() error {
	err := t.cm.Close()
	t.closeLogic()
	return err
}

// closeLogic closes the logic client, if the comet dialed one.
func (t *CometTier) closeLogic() {
	if t.logic != nil {
		t.logic.Close()
	}
}

// CometStats is comet.Stats with readable reason names, for
// /debug/stats.
type CometStats struct {
	comet.Stats
	Drops  map[string]uint64
	Closes map[string]uint64
}

// Stats implements Tier.
func (t *CometTier) Stats() any {
	st := t.cm.Stats()
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
	st := t.cm.Stats()
	var drops, closes uint64
	for _, n := range st.Drops {
		drops += n
	}
	for _, n := range st.Closes {
		closes += n
	}
	return []any{"conns", st.Conns, "tcp", st.TCPConns, "ws", st.WSConns, "rooms", st.Rooms, "ips", st.IPs,
		"accepted", st.Accepted, "pushes", st.Pushes, "enqueued", st.Enqueued, "key_misses", st.KeyMisses,
		"drops", drops, "closes", closes}
}
