package client

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/goimx/goim/bufio"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// fakeServer is a minimal comet for tests: it accepts connections on
// loopback, speaks TCP or WebSocket (optionally over TLS) and hands each
// connection to handle in its own goroutine. Close stops it and waits for
// every handler.
type fakeServer struct {
	ln        net.Listener
	transport string
	handle    func(sc *serverConn)
	wg        sync.WaitGroup

	mu    sync.Mutex // guards conns
	conns []net.Conn
}

// newFakeServer starts a fake server for transport ("tcp", "ws", "tcp+tls"
// or "wss") on 127.0.0.1:0; tlsCfg is used for the TLS transports.
func newFakeServer(t testing.TB, transport string, tlsCfg *tls.Config, handle func(sc *serverConn)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if transport == TransportTLS || transport == TransportWSS {
		ln = tls.NewListener(ln, tlsCfg)
	}
	s := &fakeServer{ln: ln, transport: transport, handle: handle}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Addr returns the listener's host:port.
func (s *fakeServer) Addr() string { return s.ln.Addr().String() }

// Config returns a client Config for this server.
func (s *fakeServer) Config() Config {
	return Config{Transport: s.transport, Addr: s.Addr(), DialTimeout: 10 * time.Second}
}

func (s *fakeServer) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, nc)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer nc.Close()
			sc, err := s.upgrade(nc)
			if err != nil {
				return
			}
			s.handle(sc)
		}()
	}
}

// upgrade runs the WebSocket handshake for WebSocket transports.
func (s *fakeServer) upgrade(nc net.Conn) (*serverConn, error) {
	sc := &serverConn{nc: nc}
	if s.transport != TransportWS && s.transport != TransportWSS {
		sc.rd = bufio.NewReaderSize(nc, 64<<10)
		return sc, nil
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	req, leftover, err := websocket.ServerHandshake(nc, nil, &websocket.HandshakeConfig{Path: wsPath})
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	sc.origin = req.Origin
	sc.ws = websocket.NewServerConn(nc, leftover, websocket.ConnConfig{})
	return sc, nil
}

// Close stops accepting, closes every connection and waits for the
// handlers.
func (s *fakeServer) Close() {
	s.ln.Close()
	s.mu.Lock()
	for _, nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// serverConn is the server's side of one connection.
type serverConn struct {
	nc     net.Conn
	rd     *bufio.Reader   // TCP
	ws     *websocket.Conn // WebSocket
	origin string          // WebSocket Origin header
}

// readPacket reads one client packet; its body is copied.
func (sc *serverConn) readPacket() (protocol.Packet, error) {
	var p protocol.Packet
	if sc.ws == nil {
		if err := p.ReadFrom(sc.rd, 0); err != nil {
			return p, err
		}
	} else {
		op, msg, err := sc.ws.ReadMessage(nil)
		if err != nil {
			return p, err
		}
		if op != websocket.OpBinary {
			return p, fmt.Errorf("message of type %v", op)
		}
		if err := p.Decode(msg, 0); err != nil {
			return p, err
		}
	}
	p.Body = bytes.Clone(p.Body)
	return p, nil
}

// readRaw reads the next client packet as its encoded bytes.
func (sc *serverConn) readRaw() ([]byte, error) {
	p, err := sc.readPacket()
	if err != nil {
		return nil, err
	}
	return p.Append(nil), nil
}

// write sends b: as is on TCP, as one binary message on WebSocket.
func (sc *serverConn) write(b []byte) error {
	if sc.ws == nil {
		_, err := sc.nc.Write(b)
		return err
	}
	return sc.ws.WriteMessage(websocket.OpBinary, b)
}

// reply sends the packet {ver 1, op, seq, body}.
func (sc *serverConn) reply(op, seq int32, body []byte) error {
	p := protocol.Packet{Ver: protocol.Version, Op: op, Seq: seq, Body: body}
	return sc.write(p.Append(nil))
}

// acceptAuth reads the auth packet, replies op 8 and returns the packet and
// the decoded token.
func (sc *serverConn) acceptAuth() (protocol.Packet, Token, error) {
	p, err := sc.readPacket()
	if err != nil {
		return p, Token{}, err
	}
	if p.Op != protocol.OpAuth {
		return p, Token{}, fmt.Errorf("first packet has op %d", p.Op)
	}
	var tok Token
	if err := json.Unmarshal(p.Body, &tok); err != nil {
		return p, tok, err
	}
	return p, tok, sc.reply(protocol.OpAuthReply, p.Seq, nil)
}

// serve answers requests as a comet would until the client goes away:
// heartbeat -> op 3 with online, change room/sub/unsub -> their replies,
// other ops -> same op and seq, empty body. Every packet is also sent to
// got when it is not nil.
func (sc *serverConn) serve(online int32, got chan<- protocol.Packet) error {
	for {
		p, err := sc.readPacket()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		if got != nil {
			got <- p
		}
		switch p.Op {
		case protocol.OpHeartbeat:
			err = sc.write(protocol.AppendHeartbeatReply(nil, p.Seq, online))
		case protocol.OpChangeRoom, protocol.OpSub, protocol.OpUnsub:
			err = sc.reply(p.Op+1, p.Seq, nil)
		default:
			err = sc.reply(p.Op, p.Seq, nil)
		}
		if err != nil {
			return err
		}
	}
}

// pushes encodes msgs as push packets back to back.
func pushes(msgs ...Message) []byte {
	var b []byte
	for _, m := range msgs {
		p := protocol.Packet{Ver: protocol.Version, Op: m.Op, Seq: m.Seq, Body: m.Body}
		b = p.Append(b)
	}
	return b
}

// batch wraps inner (packets back to back) in an op-9 packet.
func batch(inner []byte) []byte {
	return append(protocol.AppendRawHeader(nil, len(inner)), inner...)
}
