//go:build !linux

package comet

import (
	"net"
	"net/netip"
)

// sockConn stands for the Linux socket the comet owns: elsewhere every
// connection stays in the net package.
type sockConn struct{}

// socketAccepter returns ln and ln.Accept: the comet owns no descriptor
// here.
func (cm *Comet) socketAccepter(ln net.Listener) (net.Listener, func() (net.Conn, error), func()) {
	return ln, ln.Accept, func() {}
}

// sockRemote reports false: nc is never a sockConn here.
func sockRemote(net.Conn) (netip.AddrPort, bool) { return netip.AddrPort{}, false }

// setSockOwner does nothing: nc is never a sockConn here.
func setSockOwner(net.Conn, *conn) {}
