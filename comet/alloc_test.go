//go:build !race

package comet

import (
	"context"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/protocol"
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
		if c.push(msg, 1, true) != pushQueued {
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
// shared encoding), whatever the number of connections.
func TestRoomPushAllocs(t *testing.T) {
	cm := newAllocComet(t)
	var sinks []*sinkConn
	for i := range 200 {
		_, sink := addSinkConn(cm, string(rune('a'+i)), "live://1")
		sinks = append(sinks, sink)
	}
	req := &cometrpc.BroadcastRoomReq{RoomID: "live://1", Batch: protocol.AppendPush(nil, 5, []byte("room message")), Stamp: time.Now().UnixNano()}
	sent := int64(0)
	allocs := testing.AllocsPerRun(200, func() {
		if err := cm.BroadcastRoom(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		sent++
		for _, s := range sinks {
			for s.writes.Load() < sent {
				runtime.Gosched()
			}
		}
	})
	if allocs > 1 {
		t.Errorf("room push to 200 connections allocates %v times per message, want 1", allocs)
	}
}

// TestHeartbeatAllocs pins handling a heartbeat (deadline, online count,
// reply by a writer goroutine) at zero allocations.
func TestHeartbeatAllocs(t *testing.T) {
	cm := newAllocComet(t)
	c, sink := addSinkConn(cm, "k", "live://1")
	c.hb = time.Hour
	c.renewAt = math.MaxInt64
	c.th = c.timer().Add(time.Hour, c.onTimer)
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
