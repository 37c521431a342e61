package logicrpc

// LinkState is the state of a Failover's link to one logic node.
type LinkState struct {
	Addr      string // the logic node's RPC address
	Connected bool   // a connection is up now
}

// Links returns the state of the link to each logic node, in the order
// the addresses were given. It reads each client's state; call it from
// a metrics scrape, not per call.
func (f *Failover) Links() []LinkState {
	out := make([]LinkState, len(f.clients))
	for i, c := range f.clients {
		out[i] = LinkState{Addr: c.RPC().Addr(), Connected: c.RPC().Connected()}
	}
	return out
}
