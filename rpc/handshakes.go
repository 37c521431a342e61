package rpc

import (
	"net"
	"net/netip"
	"sync"
)

// handshakeSlots counts one listener's connections in their handshake per
// remote IP, for ServerConfig.MaxHandshakesPerIP.
type handshakeSlots struct {
	limit int                // most per IP; 0 or less: no limit
	mu    sync.Mutex         // guards n
	n     map[netip.Addr]int // connections of each IP in their handshake
}

// newHandshakeSlots returns the slots of a listener, limit per IP.
func newHandshakeSlots(limit int) *handshakeSlots {
	return &handshakeSlots{limit: limit, n: make(map[netip.Addr]int)}
}

// take claims a slot for a connection from addr and returns the function
// that gives it back (call it once, when the handshake ended), or ok false
// when addr's IP holds every slot. Addresses without an IP (not TCP) are
// never limited.
func (h *handshakeSlots) take(addr net.Addr) (release func(), ok bool) {
	ta, isTCP := addr.(*net.TCPAddr)
	if h.limit <= 0 || !isTCP {
		return func() {}, true
	}
	ip, valid := netip.AddrFromSlice(ta.IP)
	if !valid {
		return func() {}, true
	}
	ip = ip.Unmap()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n[ip] >= h.limit {
		return nil, false
	}
	h.n[ip]++
	var once sync.Once
	return func() { once.Do(func() { h.give(ip) }) }, true
}

// give returns ip's slot.
func (h *handshakeSlots) give(ip netip.Addr) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n[ip] <= 1 {
		delete(h.n, ip)
		return
	}
	h.n[ip]--
}
