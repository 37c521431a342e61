package comet

import (
	"bufio"
	"encoding/binary"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// header returns a raw packet header with the given fields.
func header(packLen int32, headerLen int16, op int32) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(packLen))
	b = binary.BigEndian.AppendUint16(b, uint16(headerLen))
	b = append(b, 0, 1)
	b = binary.BigEndian.AppendUint32(b, uint32(op))
	return append(b, 0, 0, 0, 1)
}

func TestBadPackets(t *testing.T) {
	tests := []struct {
		name     string
		authed   bool   // authenticate first
		bytes    []byte // then send these
		closeW   bool   // then half-close
		wantLog  string
		wantWhy  CloseReason
		tcpOnly  bool // the case is about the TCP stream
		wantCode uint16
	}{
		{"wrong header length", true, header(16, 12, 2), false, "bad header length", CloseProtocol, false, 1002},
		{"negative length", true, header(-5, 16, 2), false, "bad packet length", CloseProtocol, false, 1002},
		{"short length", true, header(10, 16, 2), false, "bad packet length", CloseProtocol, false, 1002},
		{"huge length", true, header(1<<30, 16, 2), false, "body too large", CloseProtocol, false, 1002},
		{"truncated stream", true, header(100, 16, 4)[:16], true, "unexpected EOF", CloseProtocol, true, 0},
		{"truncated header", true, header(16, 16, 2)[:9], true, "unexpected EOF", CloseProtocol, true, 0},
		{"garbage before auth", false, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false, "protocol error", CloseProtocol, false, 1002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			transports(t, func(t *testing.T, dial func(testing.TB, *server) *client) {
				s := startServer(t, Config{}, nil)
				bystander := authed(t, s, dial, token{Key: "bystander"}, 1)
				c := dial(t, s)
				if c.ws && tt.tcpOnly {
					t.Skip("about the TCP stream")
				}
				if tt.authed {
					c.auth(token{Key: "bad"})
				}
				c.write(tt.bytes)
				if tt.closeW {
					c.nc.(*net.TCPConn).CloseWrite()
				}
				if c.ws && tt.wantCode != 0 {
					op, _, payload, err := c.readFrame()
					if err != nil || op != websocket.OpClose || binary.BigEndian.Uint16(payload) != tt.wantCode {
						t.Fatalf("close frame %v % x %v, want close %d", op, payload, err, tt.wantCode)
					}
				}
				c.expectClosed()
				testwait.For(t, waitTimeout, "close count", func() bool { return s.cm.Stats().Closes[tt.wantWhy] == 1 })
				testwait.For(t, waitTimeout, "log line", func() bool {
					return hasLine(s.log.String(), "level=DEBUG", "connection closed", tt.wantWhy.String(), tt.wantLog)
				})
				if n := bystander.heartbeat(); n != 0 {
					t.Errorf("bystander heartbeat = %d", n)
				}
				if st := s.cm.Stats(); st.Conns != 1 {
					t.Errorf("conns = %d, want the bystander only", st.Conns)
				}
			})
		})
	}
}

func TestWSUpgradeErrors(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	tests := []struct {
		name, request string
		status        int
	}{
		{"not websocket", "GET /sub HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"bad path", "GET /nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n\r\n", 404},
		{"no key", "GET /sub HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", 400},
		{"bad version", "GET /sub HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: " + key + "\r\n\r\n", 426},
		{"origin refused", "GET /sub HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n\r\n", 403},
		{"post", "POST /sub HTTP/1.1\r\nHost: x\r\n\r\n", 405},
		{"garbage", "\x00\x01\x02 garbage\r\n\r\n", 400},
	}
	s := startServer(t, Config{AllowedOrigins: []string{"https://good.example"}}, nil)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", s.ws)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(waitTimeout))
			nc.Write([]byte(tt.request))
			resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			testwait.For(t, waitTimeout, "close count", func() bool { return s.cm.Stats().Closes[CloseUpgradeRefused] == uint64(i+1) })
		})
	}
	// An allowed origin upgrades.
	nc, err := net.Dial("tcp", s.ws)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(waitTimeout))
	nc.Write([]byte("GET /sub HTTP/1.1\r\nHost: x\r\nOrigin: https://GOOD.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil || resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("allowed origin: %v %v", resp, err)
	}
}

func TestWSFrames(t *testing.T) {
	s := startServer(t, Config{WSMaxMessage: 100}, nil)
	c := dialWS(t, s.ws)
	mask := [4]byte{7, 7, 7, 7}
	auth := (&protocol.Packet{Ver: 1, Op: protocol.OpAuth, Seq: 1, Body: tokenJSON(token{Key: "frag"})}).Append(nil)
	// The auth packet in three fragments, with a ping in between.
	var b []byte
	b = appendMasked(b, false, websocket.OpBinary, mask, auth[:5])
	b = appendMasked(b, false, websocket.OpContinuation, mask, auth[5:20])
	b = appendMasked(b, true, websocket.OpPing, mask, []byte("are you there"))
	b = appendMasked(b, true, websocket.OpContinuation, mask, auth[20:])
	c.writeRaw(b)
	op, fin, payload, err := c.readFrame()
	if err != nil || op != websocket.OpPong || !fin || string(payload) != "are you there" {
		t.Fatalf("pong: %v %v %q %v", op, fin, payload, err)
	}
	if p := c.read(); p.Op != protocol.OpAuthReply || p.Seq != 1 {
		t.Fatalf("auth reply %+v", p)
	}
	if n := c.heartbeat(); n != 0 {
		t.Errorf("heartbeat %d", n)
	}
	// A message over WSMaxMessage is refused with 1009.
	c.writeRaw(appendMasked(nil, true, websocket.OpBinary, mask, make([]byte, 101)))
	op, _, payload, err = c.readFrame()
	if err != nil || op != websocket.OpClose || binary.BigEndian.Uint16(payload) != websocket.CloseMessageTooBig {
		t.Fatalf("too big: %v % x %v", op, payload, err)
	}
	c.expectClosed()
	testwait.For(t, waitTimeout, "protocol close", func() bool { return s.cm.Stats().Closes[CloseProtocol] == 1 })

	// Unmasked client frames are refused; a close frame is echoed.
	for _, tt := range []struct {
		frame []byte
		code  uint16
		why   CloseReason
	}{
		{websocket.AppendFrame(nil, websocket.OpBinary, auth), websocket.CloseProtocolError, CloseProtocol},
		{appendMasked(nil, true, websocket.OpClose, mask, []byte{0x03, 0xe8, 'b', 'y', 'e'}), websocket.CloseNormal, CloseClient},
	} {
		c := dialWS(t, s.ws)
		c.auth(token{Key: "k"})
		c.writeRaw(tt.frame)
		op, _, payload, err := c.readFrame()
		if err != nil || op != websocket.OpClose || binary.BigEndian.Uint16(payload) != tt.code {
			t.Fatalf("close: %v % x %v, want %d", op, payload, err, tt.code)
		}
		c.expectClosed()
	}
	testwait.For(t, waitTimeout, "closes", func() bool {
		st := s.cm.Stats()
		return st.Closes[CloseProtocol] == 2 && st.Closes[CloseClient] == 1
	})
}

// appendMasked appends a client frame with the given fin bit.
func appendMasked(b []byte, fin bool, op websocket.Opcode, key [4]byte, payload []byte) []byte {
	b = websocket.AppendFrameHeader(b, fin, op, &key, len(payload))
	start := len(b)
	b = append(b, payload...)
	websocket.Mask(key, 0, b[start:])
	return b
}

func TestAuthBeforeOtherPackets(t *testing.T) {
	// Packets before auth are ignored (as goim did); the connection gets
	// nothing until it authenticates.
	s := startServer(t, Config{}, nil)
	c := dialTCP(t, s.tcp)
	c.send(protocol.OpHeartbeat, nil)
	c.send(protocol.OpSendMsg, []byte("early"))
	c.auth(token{Key: "late"})
	if n := c.heartbeat(); n != 0 {
		t.Errorf("heartbeat %d", n)
	}
	if got := s.logic.received(); len(got) != 0 {
		t.Errorf("pre-auth message reached logic: %+v", got)
	}
}
