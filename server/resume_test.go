package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/goimx/goim/client"
)

// TestResumeLinks: a client resumes its room after a reconnect over
// either link of a node (direct calls or loopback RPC): the auth reply
// says resumed and the missed room messages come first, numbered.
func TestResumeLinks(t *testing.T) {
	for _, links := range []Links{LinksDirect, LinksRPC} {
		t.Run(string(links), func(t *testing.T) {
			const loop = "127.0.0.1:0"
			node, err := Start(Config{
				Links: links,
				Logic: LogicConfig{HTTPAddr: loop, RPCAddr: loop},
				Comet: CometConfig{TCPAddrs: []string{loop}, WSAddr: NoListen, RPCAddr: loop},
				Job:   JobConfig{RPCAddr: loop},
			}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer node.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := node.WaitReady(ctx); err != nil {
				t.Fatal(err)
			}
			addr := node.Comet().Addrs().TCP[0].String()
			type resumeReply struct {
				RoomEpoch uint32 `json:"room_epoch"`
				RoomSeq   uint32 `json:"room_seq"`
				Resumed   bool   `json:"resumed"`
			}
			dial := func(epoch, seq uint32) (*client.Conn, resumeReply) {
				t.Helper()
				tok := client.Token{Key: "k1", RoomID: "live://9", RoomSeq: &seq, RoomEpoch: epoch}
				c, err := client.Dial(ctx, client.Config{Transport: client.TransportTCP, Addr: addr, Token: tok})
				if err != nil {
					t.Fatal(err)
				}
				var r resumeReply
				if err := json.Unmarshal(c.AuthReply(), &r); err != nil {
					t.Fatalf("auth reply %q: %v", c.AuthReply(), err)
				}
				return c, r
			}
			push := func(from, to int) {
				t.Helper()
				for i := from; i <= to; i++ {
					if _, err := node.Logic().l.PushRoom(ctx, 1000, "live://9", fmt.Appendf(nil, "m%d", i)); err != nil {
						t.Fatal(err)
					}
				}
			}
			read := func(c *client.Conn, from, to int) {
				t.Helper()
				for i := from; i <= to; i++ {
					m, err := c.Read()
					if err != nil {
						t.Fatal(err)
					}
					if want := fmt.Sprint("m", i); m.Seq != int32(i) || string(m.Body) != want {
						t.Fatalf("got seq %d %q, want %d %q", m.Seq, m.Body, i, want)
					}
				}
			}
			c, r := dial(0, 0)
			if r.Resumed || r.RoomEpoch == 0 {
				t.Fatalf("first auth reply %+v", r)
			}
			push(1, 3)
			read(c, 1, 3)
			c.Close()
			push(4, 5)
			c, r2 := dial(r.RoomEpoch, 3)
			defer c.Close()
			if !r2.Resumed || r2.RoomEpoch != r.RoomEpoch || r2.RoomSeq != 5 {
				t.Fatalf("resume auth reply %+v, want resumed at 5 under epoch %d", r2, r.RoomEpoch)
			}
			read(c, 4, 5)
			push(6, 6)
			read(c, 6, 6)
			if err := node.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
