package server

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strconv"
)

// listeners is the set of listeners a tier bound; on a failed start they
// are closed together.
type listeners []net.Listener

// listen binds addr (TLS-wrapped when cfg is not nil) and records it.
func (ls *listeners) listen(what, addr string, cfg *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen %s: %w", what, addr, err)
	}
	*ls = append(*ls, ln)
	if cfg != nil {
		return tls.NewListener(ln, cfg), nil
	}
	return ln, nil
}

// close closes every listener (after a failed start).
func (ls listeners) close() {
	for _, ln := range ls {
		ln.Close()
	}
}

// hostname returns the host name, or "localhost" when it is unknown.
func hostname() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// defaultNodeID returns "hostname:port" for the port of a, so that two
// nodes of one kind on one machine differ.
func defaultNodeID(a net.Addr) string {
	return net.JoinHostPort(hostname(), strconv.Itoa(portOf(a)))
}

// portOf returns the TCP port of a, or 0.
func portOf(a net.Addr) int {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.Port
	}
	return portOfAddr(a.String())
}

// portOfAddr returns the port number of a host:port address, or 0 when
// it has none (NoListen, a port name, or port 0).
func portOfAddr(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return 0
	}
	return n
}

// advertise returns the address other tiers dial to reach a listener
// bound at a: a itself when its host is a specific address, else the
// loopback address (loopback true: a node whose tiers share the process)
// or the host name.
func advertise(a net.Addr, loopback bool) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return a.String()
	}
	if loopback {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return net.JoinHostPort(hostname(), port)
}

// addrString returns a.String(), or "" for a nil address.
func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
