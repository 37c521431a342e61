//go:build linux

package bench

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// rawBufSize is the initial read buffer of a raw connection; it grows to
// fit a larger unit.
const rawBufSize = 2048

// epollWait is how long an epoll worker waits before it checks whether
// the fleet is closing, in milliseconds.
const epollWait = 100

// rawConn is a connection read by the epoll reader: a socket made with
// syscalls, which the Go runtime's poller does not know, read by the
// fleet's epoll workers. Its descriptor is closed only by Fleet.Close, so
// that the heartbeat goroutine never writes to a reused descriptor.
type rawConn struct {
	fd   int
	ws   bool
	buf  []byte      // buf[:n] holds bytes read and not yet parsed
	n    int         // owned by the connection's epoll worker
	dead atomic.Bool // the stream failed or ended: no more reads or heartbeats
}

// fdConn is a blocking descriptor as an io.ReadWriter, for the handshake.
type fdConn int

// Read reads into p, retrying on EINTR; a closed peer is an error.
func (fd fdConn) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, errors.New("bench: connection closed during the handshake")
		}
		return n, nil
	}
}

// Write writes all of p, retrying on EINTR and short writes.
func (fd fdConn) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := syscall.Write(int(fd), p[done:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

// dialRaw opens a raw socket to addr (one of cfg.Addr's) from local
// (empty: any), runs the WebSocket handshake for ws, authenticates with
// tok and leaves the socket non-blocking.
func dialRaw(cfg *FleetConfig, addr string, tok client.Token, local string) (*rawConn, error) {
	host, path, ws, err := splitAddr(addr, cfg.Transport)
	if err != nil {
		return nil, err
	}
	fd, err := connectRaw(host, local, cfg.DialTimeout)
	if err != nil {
		return nil, err
	}
	rc := &rawConn{fd: fd, ws: ws, buf: make([]byte, rawBufSize)}
	if err := rc.handshake(host, path, tok); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return rc, nil
}

// splitAddr returns the host:port to connect to, the WebSocket path and
// whether the transport is WebSocket.
func splitAddr(addr, transport string) (host, path string, ws bool, err error) {
	rest, isURL := strings.CutPrefix(addr, "ws://")
	ws = isURL || transport == client.TransportWS
	switch {
	case !ws && transport != "" && transport != client.TransportTCP:
		return "", "", false, fmt.Errorf("bench: the epoll reader speaks tcp and ws, not %q", transport)
	case !ws:
		return addr, "", false, nil
	}
	host, p, _ := strings.Cut(rest, "/")
	return host, "/" + cmp.Or(p, "sub"), true, nil
}

// connectRaw makes a blocking TCP socket connected to host:port from
// local, with send and receive timeouts of timeout.
func connectRaw(host, local string, timeout time.Duration) (int, error) {
	ra, err := net.ResolveTCPAddr("tcp4", host)
	if err != nil {
		return -1, err
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if err != nil {
		return -1, err
	}
	if err := setupRaw(fd, local, timeout); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	sa := &syscall.SockaddrInet4{Port: ra.Port}
	copy(sa.Addr[:], ra.IP.To4())
	for {
		err = syscall.Connect(fd, sa)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("connect %s: %w", host, err)
	}
	return fd, nil
}

// setupRaw binds fd to local and sets its timeouts and TCP_NODELAY.
func setupRaw(fd int, local string, timeout time.Duration) error {
	if local != "" {
		ip := net.ParseIP(local).To4()
		if ip == nil {
			return fmt.Errorf("bench: local address %q is not IPv4", local)
		}
		sa := &syscall.SockaddrInet4{}
		copy(sa.Addr[:], ip)
		if err := syscall.Bind(fd, sa); err != nil {
			return fmt.Errorf("bind %s: %w", local, err)
		}
	}
	tv := syscall.NsecToTimeval(timeout.Nanoseconds())
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_SNDTIMEO, &tv); err != nil {
		return err
	}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return err
	}
	return syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
}

// handshake runs the WebSocket upgrade (for ws) and the auth round trip;
// bytes that follow the auth reply stay in rc.buf.
func (rc *rawConn) handshake(host, path string, tok client.Token) error {
	if rc.ws {
		leftover, err := websocket.ClientHandshake(fdConn(rc.fd), nil, host, path, "http://"+host)
		if err != nil {
			return err
		}
		rc.n = copy(rc.buf, leftover)
	}
	if tok.Accepts == nil {
		tok.Accepts = []int32{}
	}
	body, err := json.Marshal(tok)
	if err != nil {
		return err
	}
	pkt := (&protocol.Packet{Ver: 1, Op: protocol.OpAuth, Seq: 1, Body: body}).Append(nil)
	if rc.ws {
		pkt = websocket.AppendMaskedFrame(nil, websocket.OpBinary, [4]byte{1, 2, 3, 4}, pkt)
	}
	if _, err := fdConn(rc.fd).Write(pkt); err != nil {
		return err
	}
	return rc.readAuthReply()
}

// readAuthReply reads until the first unit is complete and checks that it
// is the auth reply.
func (rc *rawConn) readAuthReply() error {
	for {
		unit, op, used, need, err := nextUnit(rc.buf[:rc.n], rc.ws)
		if err != nil {
			return err
		}
		if used > 0 {
			var p protocol.Packet
			if op != websocket.OpBinary || p.Decode(unit, maxRawUnit) != nil || p.Op != protocol.OpAuthReply {
				return fmt.Errorf("%w: no auth reply", client.ErrAuth)
			}
			rc.n = copy(rc.buf, rc.buf[used:rc.n])
			return nil
		}
		rc.grow(need)
		n, err := fdConn(rc.fd).Read(rc.buf[rc.n:])
		if err != nil {
			return fmt.Errorf("%w: %v", client.ErrAuth, err)
		}
		rc.n += n
	}
}

// grow makes room in buf for a unit of need bytes.
func (rc *rawConn) grow(need int) {
	if need <= len(rc.buf) && rc.n < len(rc.buf) {
		return
	}
	b := make([]byte, max(need, 2*len(rc.buf)))
	copy(b, rc.buf[:rc.n])
	rc.buf = b
}

// heartbeatPacket returns the heartbeat as written on rc.
func (rc *rawConn) heartbeatPacket() []byte {
	pkt := (&protocol.Packet{Ver: 1, Op: protocol.OpHeartbeat}).Append(nil)
	if rc.ws {
		pkt = websocket.AppendMaskedFrame(nil, websocket.OpBinary, [4]byte{1, 2, 3, 4}, pkt)
	}
	return pkt
}
