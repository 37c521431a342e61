//go:build !race

package comet

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/internal/testwait"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/rpc"
)

// newAllocComet returns a comet without listeners or reports. Its
// message rate limit is on, at its highest, so the pinned paths include
// counting packets.
func newAllocComet(t *testing.T) *Comet {
	t.Helper()
	cm, err := New(Config{ReportInterval: -1, Buckets: 4, MsgRate: maxMsgRate}, &fakeLogic{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cm.Close() })
	return cm
}

// TestPushAllocs pins the per-connection cost of a push at zero
// allocations: enqueue, start the writer goroutine, write, observe the
// end-to-end latency, exit.
func TestPushAllocs(t *testing.T) {
	cm := newAllocComet(t)
	c, sink := addSinkConn(cm, "k", "", 1)
	msg := encodePush(1, []byte("hello"), time.Now().UnixNano())
	allocs := testing.AllocsPerRun(1000, func() {
		if c.push(msg, 1, true, false) != pushQueued {
			t.Fatal("not queued")
		}
		waitWriter(c)
	})
	if allocs != 0 {
		t.Errorf("push allocates %v times per message, want 0", allocs)
	}
	if sink.writes.Load() < 1000 {
		t.Errorf("%d writes", sink.writes.Load())
	}
	if n := cm.Stats().PushLatency.Count; n < 1000 {
		t.Errorf("%d latency observations, want one per write", n)
	}
}

// TestRoomPushAllocs pins a room push at one allocation per message (the
// shared encoding), whatever the number of connections, whether the room
// is their primary room or one they joined besides.
func TestRoomPushAllocs(t *testing.T) {
	for _, joined := range []bool{false, true} {
		t.Run(fmt.Sprintf("joined=%v", joined), func(t *testing.T) { testRoomPushAllocs(t, joined) })
	}
}

func testRoomPushAllocs(t *testing.T, joined bool) {
	cm := newAllocComet(t)
	var sinks []*sinkConn
	for i := range 200 {
		c, sink := addSinkConn(cm, string(rune('a'+i)), "live://1")
		if joined {
			c.bucket.changeRoom(c, "")
			if st := c.bucket.join(c, "live://1", -1); st != protocol.RoomOK {
				t.Fatal(st)
			}
		}
		sinks = append(sinks, sink)
	}
	req := &cometrpc.BroadcastRoomReq{RoomID: "live://1", Batch: protocol.AppendPush(nil, 5, []byte("room message")), Stamp: time.Now().UnixNano()}
	sent := int64(0)
	// The best of three measurements: AllocsPerRun counts every goroutine's
	// allocations, and on a loaded machine the goroutines that earlier
	// tests left winding down can add some to one measurement; an
	// allocation of the push path shows in all three.
	allocs := math.Inf(1)
	for range 3 {
		allocs = min(allocs, testing.AllocsPerRun(200, func() {
			if err := cm.BroadcastRoom(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			sent++
			for _, s := range sinks {
				for s.writes.Load() < sent {
					runtime.Gosched()
				}
			}
		}))
	}
	if allocs > 1 {
		t.Errorf("room push to 200 connections allocates %v times per message, want 1", allocs)
	}
}

// TestChangeRoomAllocs pins moving a connection between two rooms that
// exist in its bucket, the single-room case, at zero allocations.
func TestChangeRoomAllocs(t *testing.T) {
	cm := newAllocComet(t)
	c, _ := addSinkConn(cm, "k", "live://1")
	// Other members in c's bucket keep both rooms there (an emptied room
	// is deleted, and made again at the next join).
	for i, room := range []string{"live://1", "live://2"} {
		key := fmt.Sprint("other", i)
		for j := 0; cm.bucketByKey(key) != c.bucket; j++ {
			key = fmt.Sprint("other", i, "-", j)
		}
		addSinkConn(cm, key, room)
	}
	rooms := [2]string{"live://1", "live://2"}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		c.bucket.changeRoom(c, rooms[i%2])
	})
	if allocs != 0 {
		t.Errorf("change room allocates %v times, want 0", allocs)
	}
	if c.extra != nil {
		t.Error("a connection in one room has extraRooms")
	}
}

// TestHeartbeatAllocs pins handling a heartbeat (deadline, online count,
// reply by a writer goroutine) at zero allocations.
func TestHeartbeatAllocs(t *testing.T) {
	cm := newAllocComet(t)
	c, sink := addSinkConn(cm, "k", "live://1")
	c.setHeartbeat(time.Hour)
	c.renewAt = math.MaxInt64
	c.th = c.timer().Add(time.Hour, c.deadline)
	p := protocol.Packet{Ver: 1, Op: protocol.OpHeartbeat, Seq: 3}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := c.handle(&p); err != nil {
			t.Fatal(err)
		}
		waitWriter(c)
	})
	if allocs != 0 {
		t.Errorf("heartbeat allocates %v times, want 0", allocs)
	}
	if sink.written.Load() < 1000*20 {
		t.Errorf("%d bytes written", sink.written.Load())
	}
}

func TestEncodeAllocs(t *testing.T) {
	body := make([]byte, 300)
	if allocs := testing.AllocsPerRun(100, func() { encodePush(1, body, 1) }); allocs != 1 {
		t.Errorf("encodePush allocates %v times, want 1", allocs)
	}
}

// TestSocketPushAllocs pins the comet's push path over real loopback TCP
// and WebSocket connections read by clients: a push by key, written by
// a writer goroutine, and a room push, written by the room workers
// themselves on TCP, cost the shared encoding alone (one allocation per
// message), nothing per connection.
func TestSocketPushAllocs(t *testing.T) {
	for _, ws := range []bool{false, true} {
		t.Run(fmt.Sprintf("ws=%v", ws), func(t *testing.T) { testSocketPushAllocs(t, ws) })
	}
}

func testSocketPushAllocs(t *testing.T, ws bool) {
	const members = 20
	s := startServer(t, Config{}, nil)
	got := make([]atomic.Int64, members)
	var wg sync.WaitGroup
	var clients []*client
	for i := range members {
		var c *client
		if ws {
			c = dialWS(t, s.ws)
		} else {
			c = dialTCP(t, s.tcp)
		}
		c.auth(token{Key: fmt.Sprint("k", i), RoomID: "live://r", Accepts: []int32{1000}})
		clients = append(clients, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			countMessages(c.nc, c.r, ws, &got[i])
		}()
	}
	t.Cleanup(func() {
		for _, c := range clients {
			c.nc.Close()
		}
		wg.Wait()
	})
	testwait.For(t, waitTimeout, "registration", func() bool { return s.cm.Stats().Conns == members })
	var keySent, roomSent int64 // client 0 gets both, the others the room's
	wait := func() {
		for i := range got {
			want := roomSent
			if i == 0 {
				want += keySent
			}
			for got[i].Load() < want {
				time.Sleep(20 * time.Microsecond) // lets the poller run, unlike Gosched
			}
		}
	}
	keys := &cometrpc.PushKeysReq{Op: 1000, Keys: rpc.MakeStringList("k0"), Body: make([]byte, 16)}
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.cm.PushKeys(context.Background(), keys); err != nil {
			t.Fatal(err)
		}
		keySent++
		wait()
	})
	if allocs > 1 {
		t.Errorf("push by key allocates %v times per message, want 1 (the encoding)", allocs)
	}
	room := &cometrpc.BroadcastRoomReq{RoomID: "live://r", Batch: protocol.AppendPush(nil, 1000, make([]byte, 16))}
	allocs = testing.AllocsPerRun(100, func() {
		if err := s.cm.BroadcastRoom(context.Background(), room); err != nil {
			t.Fatal(err)
		}
		roomSent++
		wait()
	})
	if allocs > 1 {
		t.Errorf("room push to %d connections allocates %v times per message, want 1 (the encoding)", members, allocs)
	}
	if st := s.cm.Stats(); len(st.Drops) != 0 {
		t.Errorf("drops %v", st.Drops)
	}
}
