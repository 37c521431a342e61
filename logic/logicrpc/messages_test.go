package logicrpc

import (
	"errors"
	"testing"
	"time"

	"github.com/goimx/goim/rpc"
	"github.com/google/go-cmp/cmp"
)

type message interface {
	Append([]byte) []byte
	Decode([]byte) error
}

func roundTripCases() []struct {
	name string
	in   message
	out  message
} {
	node := NodeInfo{
		ID: "comet-1", Kind: KindComet, RPCAddr: "127.0.0.1:3109",
		Addrs: []string{"10.0.0.1", "conn.example"}, Hostname: "h", Region: "sh",
		Zone: "sh001", Env: "dev", Version: "v1", Weight: 10, Offline: true,
		ConnCount: 1234, IPCount: 99,
	}
	return []struct {
		name string
		in   message
		out  message
	}{
		{"connect", &ConnectReq{Server: "c1", ConnID: 7, Addr: "1.2.3.4:5", Token: []byte(`{"mid":1}`)}, new(ConnectReq)},
		{"connect empty", &ConnectReq{}, new(ConnectReq)},
		{"connect reply", &ConnectReply{Mid: -3, Key: "k", RoomID: "live://1", Platform: "web", Accepts: []int32{1000, -1}, Heartbeat: 90 * time.Second, Rooms: []string{"live://2", "chat://3"}}, new(ConnectReply)},
		{"disconnect", &DisconnectReq{Mid: 1 << 40, Key: "k", Server: "c1", ConnID: 1<<64 - 1}, new(DisconnectReq)},
		{"disconnect reply", &DisconnectReply{Has: true}, new(DisconnectReply)},
		{"heartbeat", &HeartbeatReq{Mid: 1, Key: "k", Server: "s", ConnID: 2}, new(HeartbeatReq)},
		{"report", &ReportReq{Node: node, RoomCount: map[string]int32{"live://1": 3, "": 0}}, new(ReportReq)},
		{"report reply", &ReportReply{Epoch: 42, Known: true, RoomCount: map[string]int32{"a": 1}}, new(ReportReply)},
		{"receive", &ReceiveReq{Mid: 1, Key: "k", Op: 1000, Body: []byte("hi")}, new(ReceiveReq)},
		{"nodes", &NodesReq{Kind: KindJob}, new(NodesReq)},
		{"nodes reply", &NodesReply{Nodes: []NodeInfo{node, {ID: "j", Kind: KindJob}}}, new(NodesReply)},
		{"nodes reply empty", &NodesReply{Nodes: []NodeInfo{}}, new(NodesReply)},
		{"sessions", &SessionsReq{Server: "c1", Sessions: []Session{{Mid: 1, Key: "a", ConnID: 3, RoomID: "live://1"}, {Key: "b"}}}, new(SessionsReq)},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTripCases() {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.in.Append(nil)
			if err := tc.out.Decode(b); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tc.in, tc.out); diff != "" {
				t.Fatalf("round trip (-in +out):\n%s", diff)
			}
		})
	}
}

// TestTruncated checks that every strict prefix of every encoding and any
// trailing byte is refused.
func TestTruncated(t *testing.T) {
	for _, tc := range roundTripCases() {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.in.Append(nil)
			for n := range len(b) {
				if err := tc.out.Decode(b[:n]); err == nil {
					t.Fatalf("prefix of %d/%d bytes decoded without error", n, len(b))
				}
			}
			if err := tc.out.Decode(append(b, 0)); !errors.Is(err, rpc.ErrMalformed) {
				t.Fatalf("trailing byte: got %v, want ErrMalformed", err)
			}
		})
	}
}

func TestForgedCounts(t *testing.T) {
	huge := rpc.AppendUvarint(nil, 1<<40)
	if err := new(NodesReply).Decode(huge); err == nil {
		t.Fatal("NodesReply with a forged count decoded")
	}
	b := rpc.AppendString(nil, "c1")
	b = rpc.AppendUvarint(b, 1<<40)
	if err := new(SessionsReq).Decode(b); err == nil {
		t.Fatal("SessionsReq with a forged count decoded")
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range roundTripCases() {
		f.Add(tc.in.Append(nil))
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, p []byte) {
		for _, tc := range roundTripCases() {
			if err := tc.out.Decode(p); err != nil {
				continue
			}
			// Whatever decodes must encode back to something that decodes
			// to the same value.
			again := tc.out.Append(nil)
			fresh := roundTripFresh(tc.out)
			if err := fresh.Decode(again); err != nil {
				t.Fatalf("%s: re-decode: %v", tc.name, err)
			}
		}
	})
}

func roundTripFresh(m message) message {
	switch m.(type) {
	case *ConnectReq:
		return new(ConnectReq)
	case *ConnectReply:
		return new(ConnectReply)
	case *DisconnectReq:
		return new(DisconnectReq)
	case *DisconnectReply:
		return new(DisconnectReply)
	case *HeartbeatReq:
		return new(HeartbeatReq)
	case *ReportReq:
		return new(ReportReq)
	case *ReportReply:
		return new(ReportReply)
	case *ReceiveReq:
		return new(ReceiveReq)
	case *NodesReq:
		return new(NodesReq)
	case *NodesReply:
		return new(NodesReply)
	case *SessionsReq:
		return new(SessionsReq)
	}
	panic("unknown message type")
}

func BenchmarkConnectReqDecode(b *testing.B) {
	p := (&ConnectReq{Server: "comet-1", ConnID: 12345, Addr: "127.0.0.1:40000", Token: []byte(`{"mid":123,"key":"","room_id":"live://1000","platform":"web","accepts":[1000,1001]}`)}).Append(nil)
	b.ReportAllocs()
	var m ConnectReq
	for b.Loop() {
		if err := m.Decode(p); err != nil {
			b.Fatal(err)
		}
	}
}
