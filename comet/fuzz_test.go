package comet

import (
	"errors"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/goimx/goim/protocol"
)

func FuzzParseOps(f *testing.F) {
	for _, s := range []string{"", "1000", "1000,1001", " 7 , 8 ", "1,,2", "x", "-1", "2147483648", "1,2,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ops, ok := parseOps(s)
		if !ok && ops != nil {
			t.Fatalf("parseOps(%q) failed with ops %v", s, ops)
		}
	})
}

// FuzzConnStream sends arbitrary bytes on an authenticated TCP connection:
// the comet must answer or close that connection, never crash or hang,
// and keep serving others.
func FuzzConnStream(f *testing.F) {
	pkt := func(op int32, body string) []byte {
		return (&protocol.Packet{Ver: 1, Op: op, Seq: 1, Body: []byte(body)}).Append(nil)
	}
	f.Add(pkt(protocol.OpHeartbeat, ""))
	f.Add(slices.Concat(pkt(protocol.OpChangeRoom, "live://2"), pkt(protocol.OpSub, "1,2"), pkt(protocol.OpUnsub, "1")))
	f.Add(pkt(protocol.OpSendMsg, "hello"))
	f.Add(slices.Concat(pkt(protocol.OpJoinRoom, "chat://1"), pkt(protocol.OpJoinRoom, ""), pkt(protocol.OpChangeRoom, "chat://1"),
		pkt(protocol.OpLeaveRoom, "live://1"), pkt(protocol.OpLeaveRoom, "chat://1")))
	f.Add(pkt(protocol.OpAuth, `{"key":"again"}`))
	f.Add(header(16, 12, 2))
	f.Add(header(-1, 16, 2))
	f.Add(header(1<<30, 16, 2))
	f.Add(header(100, 16, 4)[:10])
	f.Add([]byte("GET /sub HTTP/1.1\r\n\r\n"))
	s := startServer(f, Config{}, nil)
	auth := pkt(protocol.OpAuth, `{"key":"fuzz","room_id":"live://1"}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		nc, err := net.Dial("tcp", s.tcp)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(waitTimeout))
		done := make(chan error, 1)
		go func() {
			_, err := io.Copy(io.Discard, nc) // replies, until the comet closes
			done <- err
		}()
		nc.Write(auth)
		nc.Write(b)
		nc.(*net.TCPConn).CloseWrite()
		var ne net.Error
		if err := <-done; errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection not closed: %v", err) // a reset is a close too
		}
	})
}
