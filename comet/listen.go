package comet

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// serve is the accept loop of ServeTCP and ServeWS. A failing Accept is
// retried after a growing delay (5ms to 1s); one connection's failure
// never stops it.
func (cm *Comet) serve(ln net.Listener, ws bool) error {
	defer ln.Close()
	if !cm.addListener(ln) {
		return ErrServerClosed
	}
	defer cm.wg.Done()
	defer cm.removeListener(ln)
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if cm.closing.Load() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			cm.logger.Warn("comet: accept failed; retrying", "addr", ln.Addr().String(), "err", err, "delay", delay)
			if !cm.sleepUntil(time.Now().Add(delay)) {
				return ErrServerClosed
			}
			continue
		}
		delay = 0
		cm.accepted.Add(1)
		c := newConn(cm, nc)
		cm.wg.Add(1) // this loop holds a count: the counter is not zero
		go c.serve(ws)
	}
}

// addListener records ln for Shutdown and takes a count of cm.wg for its
// accept loop. It reports false once the comet is closing.
func (cm *Comet) addListener(ln net.Listener) bool {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	if cm.closing.Load() {
		return false
	}
	cm.listeners[ln] = struct{}{}
	cm.wg.Add(1)
	return true
}

// removeListener forgets ln.
func (cm *Comet) removeListener(ln net.Listener) {
	cm.mu.Lock()
	delete(cm.listeners, ln)
	cm.mu.Unlock()
}

// BoundAddrs are the addresses Start listens on; a listener turned off
// is nil (or absent from TCP).
type BoundAddrs struct {
	TCP    []net.Addr // plain TCP clients
	WS     net.Addr   // plain WebSocket clients
	WSS    net.Addr   // WebSocket over TLS
	TCPTLS net.Addr   // TCP over TLS
	RPC    net.Addr   // the comet RPC service
}

// listenPlan is one listener Start opens.
type listenPlan struct {
	addr  string
	tls   bool
	serve func(net.Listener) error
	bound func(*BoundAddrs, net.Addr)
}

// plans returns the listeners of the Config.
func (cm *Comet) plans() []listenPlan {
	var plans []listenPlan
	for _, a := range cm.cfg.TCPAddrs {
		plans = append(plans, listenPlan{a, false, cm.ServeTCP, func(b *BoundAddrs, x net.Addr) { b.TCP = append(b.TCP, x) }})
	}
	return append(plans,
		listenPlan{cm.cfg.WSAddr, false, cm.ServeWS, func(b *BoundAddrs, x net.Addr) { b.WS = x }},
		listenPlan{cm.cfg.WSSAddr, true, cm.ServeWS, func(b *BoundAddrs, x net.Addr) { b.WSS = x }},
		listenPlan{cm.cfg.TCPTLSAddr, true, cm.ServeTCP, func(b *BoundAddrs, x net.Addr) { b.TCPTLS = x }},
		listenPlan{cm.cfg.RPCAddr, false, cm.ServeRPC, func(b *BoundAddrs, x net.Addr) { b.RPC = x }})
}

// Start listens on the addresses of the Config (TCPAddrs, WSAddr,
// WSSAddr, TCPTLSAddr, RPCAddr; empty or NoListen turns one off, after
// defaults) and serves each on a background goroutine until Shutdown or
// Close. If any listen fails it closes the listeners it opened and returns
// the error. Addrs returns the bound addresses.
func (cm *Comet) Start() error {
	tlsCfg, err := cm.tlsConfig()
	if err != nil {
		return err
	}
	var lns []net.Listener
	var todo []listenPlan
	for _, p := range cm.plans() {
		if p.addr == "" || p.addr == NoListen {
			continue
		}
		ln, err := listen(p.addr, p.tls, tlsCfg)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return err
		}
		lns, todo = append(lns, ln), append(todo, p)
	}
	for i, ln := range lns {
		cm.mu.Lock()
		todo[i].bound(&cm.bound, ln.Addr())
		cm.mu.Unlock()
		serve := todo[i].serve
		if !cm.goBackground(func() { cm.logServe(ln, serve(ln)) }) {
			ln.Close()
		}
	}
	return nil
}

// listen opens a TCP listener on addr, wrapped in TLS when asked.
func listen(addr string, useTLS bool, cfg *tls.Config) (net.Listener, error) {
	if useTLS && cfg == nil {
		return nil, fmt.Errorf("comet: listen %s: TLS listener without a certificate", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("comet: listen %s: %w", addr, err)
	}
	if useTLS {
		ln = tls.NewListener(ln, cfg)
	}
	return ln, nil
}

// tlsConfig returns the TLS configuration of the TLS listeners, or nil
// when none is configured.
func (cm *Comet) tlsConfig() (*tls.Config, error) {
	if cm.cfg.TLSConfig != nil {
		return cm.cfg.TLSConfig, nil
	}
	if cm.cfg.CertFile == "" || cm.cfg.KeyFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cm.cfg.CertFile, cm.cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("comet: load certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// logServe logs a serve loop that ended for another reason than closing.
func (cm *Comet) logServe(ln net.Listener, err error) {
	if err != nil && !errors.Is(err, ErrServerClosed) {
		cm.logger.Error("comet: listener stopped", "addr", ln.Addr().String(), "err", err)
	}
}

// Addrs returns the addresses Start is listening on.
func (cm *Comet) Addrs() BoundAddrs {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	b := cm.bound
	b.TCP = append([]net.Addr(nil), b.TCP...)
	return b
}
