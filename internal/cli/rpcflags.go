package cli

import (
	"math"
	"time"

	"github.com/goimx/goim/rpc"
)

// Defaults of the RPC flags, as the rpc package's zero values.
const (
	defaultRPCInflight   = 1024
	defaultRPCMaxBackoff = 5 * time.Second
)

// rpcFlags are a tier's flags for the internal RPC: the frame limit
// (which must be equal on every tier), the server's in-flight limit and
// the clients' reconnect backoff.
type rpcFlags struct {
	maxFrame   int
	inflight   int
	maxBackoff time.Duration
	sec        *rpcSecurity // the App's secret and TLS, shared by its tiers
}

// register registers -rpc-max-frame, and -rpc-max-inflight when the tier
// serves the RPC and -rpc-max-backoff when it dials.
func (r *rpcFlags) register(f flagger, server, client bool) {
	f.integer(&r.maxFrame, "rpc-max-frame", rpc.DefaultMaxFrameSize, 1024, math.MaxInt32,
		"largest internal RPC frame in bytes; must be the same on every tier")
	r.inflight = defaultRPCInflight
	if server {
		f.integer(&r.inflight, "rpc-max-inflight", defaultRPCInflight, 1, 1<<20,
			"calls one RPC connection may run at once before the server stops reading it")
	}
	r.maxBackoff = defaultRPCMaxBackoff
	if client {
		f.duration(&r.maxBackoff, "rpc-max-backoff", defaultRPCMaxBackoff, time.Millisecond,
			"longest wait between two dials of a lost internal RPC connection (it starts at 50ms and doubles)")
	}
}

// server returns the RPC server configuration.
func (r *rpcFlags) server() rpc.ServerConfig {
	c := rpc.ServerConfig{MaxFrameSize: r.maxFrame, MaxInflight: r.inflight}
	r.sec.apply(&c, nil)
	return c
}

// client returns the RPC client configuration.
func (r *rpcFlags) client() rpc.ClientConfig {
	c := rpc.ClientConfig{
		MaxFrameSize: r.maxFrame,
		MinBackoff:   min(50*time.Millisecond, r.maxBackoff),
		MaxBackoff:   r.maxBackoff,
	}
	r.sec.apply(nil, &c)
	return c
}

// rpcStatsAttrs returns the stats log attributes of a tier's RPC server:
// the connections refused by the handshake, the listener's cap and the
// idle deadline.
func rpcStatsAttrs(s rpc.ServerStats) []any {
	return []any{"rpc_conns", s.Conns, "rpc_auth_failures", s.AuthFailures,
		"rpc_conns_refused", s.ConnsRefused, "rpc_idle_closed", s.IdleClosed, "rpc_bad_frames", s.BadFrames}
}
