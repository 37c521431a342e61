package comet

import (
	"context"
	"slices"
	"testing"

	goimclient "github.com/goimx/goim/client"
	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/rpc"
)

// TestGoClient checks the comet against the Go client library over TCP
// and WebSocket.
func TestGoClient(t *testing.T) {
	s := startServer(t, Config{}, nil)
	for _, tt := range []struct{ transport, addr string }{
		{goimclient.TransportTCP, s.tcp}, {goimclient.TransportWS, s.ws},
	} {
		t.Run(tt.transport, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			key := "go-" + tt.transport
			c, err := goimclient.Dial(ctx, goimclient.Config{Transport: tt.transport, Addr: tt.addr,
				Token: goimclient.Token{Mid: 8, Key: key, RoomID: "live://go", Accepts: []int32{1000}}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Heartbeat(); err != nil {
				t.Fatal(err)
			}
			m, err := c.ReadOwned()
			if n, ok := goimclient.OnlineCount(m); err != nil || !ok || n != 1 {
				t.Fatalf("heartbeat reply %+v %v", m, err)
			}
			s.cm.PushKeys(ctx, &cometrpc.PushKeysReq{Op: 1000, Keys: rpc.MakeStringList(key), Body: []byte("k")})
			s.cm.BroadcastRoom(ctx, &cometrpc.BroadcastRoomReq{RoomID: "live://go",
				Batch: slices.Concat(packetBytes(1, "r1"), packetBytes(2, "r2"))})
			for _, want := range []goimclient.Message{{Op: 1000, Body: []byte("k")}, {Op: 1, Body: []byte("r1")}, {Op: 2, Body: []byte("r2")}} {
				m, err := c.ReadOwned()
				if err != nil || m.Op != want.Op || m.Seq != 0 || string(m.Body) != string(want.Body) {
					t.Fatalf("read %+v %v, want %+v", m, err, want)
				}
			}
			if err := c.ChangeRoom("live://other"); err != nil {
				t.Fatal(err)
			}
			if m, err := c.ReadOwned(); err != nil || m.Op != protocol.OpChangeRoomReply {
				t.Fatalf("change room reply %+v %v", m, err)
			}
		})
	}
}
