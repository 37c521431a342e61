package job

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/rpc"
)

// waitDelivered waits until the comets got want messages or the job
// counted the rest as dropped.
func waitDelivered(b *testing.B, j *Job, comets []*fakeComet, want int64) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for received(comets)+int64(j.Stats().Dropped()) < want || !j.cometsIdle() {
		if time.Now().After(deadline) {
			b.Fatalf("received %d of %d", received(comets), want)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// BenchmarkPushRoom pushes room messages as fast as one goroutine can,
// through batching, to N comets that only count; it waits for every comet
// to have everything before the timer stops.
func BenchmarkPushRoom(b *testing.B) {
	for _, comets := range []int{1, 4, 16} {
		for _, rooms := range []int{1, 100} {
			b.Run(fmt.Sprintf("comets=%d/rooms=%d", comets, rooms), func(b *testing.B) {
				var ids []string
				for i := range comets {
					ids = append(ids, fmt.Sprintf("c%d", i))
				}
				h := newLightHarness(b, Config{CometQueueSize: 1 << 16}, ids...)
				all := h.allComets()
				names := make([]string, rooms)
				for i := range names {
					names[i] = fmt.Sprintf("live://%d", i)
				}
				msg := &jobrpc.PushMsg{Type: jobrpc.PushRoom, Op: 1000, Msg: make([]byte, 64)}
				ctx := context.Background()
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					msg.Room = names[i%rooms]
					i++
					if err := h.job.Push(ctx, msg); err != nil {
						b.Fatal(err)
					}
				}
				waitDelivered(b, h.job, all, int64(i*comets))
				st := h.job.Stats()
				b.ReportMetric(float64(st.BatchedMsgs)/float64(st.Batches), "msgs/batch")
				b.ReportMetric(float64(st.Dropped())/float64(i), "drops/op")
			})
		}
	}
}

// BenchmarkPushKeys pushes to keys on one of four comets.
func BenchmarkPushKeys(b *testing.B) {
	h := newLightHarness(b, Config{}, "c0", "c1", "c2", "c3")
	msg := &jobrpc.PushMsg{Type: jobrpc.PushKeys, Op: 1001, Server: "c2", Keys: rpc.MakeStringList("k1"), Msg: make([]byte, 64)}
	ctx := context.Background()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := h.job.Push(ctx, msg); err != nil {
			b.Fatal(err)
		}
		n++
	}
	waitDelivered(b, h.job, h.allComets(), int64(n))
}

// BenchmarkPushAll broadcasts to four comets.
func BenchmarkPushAll(b *testing.B) {
	h := newLightHarness(b, Config{}, "c0", "c1", "c2", "c3")
	msg := &jobrpc.PushMsg{Type: jobrpc.PushAll, Op: 1002, Speed: 1000, Msg: make([]byte, 64)}
	ctx := context.Background()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := h.job.Push(ctx, msg); err != nil {
			b.Fatal(err)
		}
		n++
	}
	waitDelivered(b, h.job, h.allComets(), int64(4*n))
}

// BenchmarkBatchEncode encodes a full batch of 20 messages of 64 bytes,
// as a room does once for all comets.
func BenchmarkBatchEncode(b *testing.B) {
	body := make([]byte, 64)
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(20 * (protocol.HeaderLen + len(body))))
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for range 20 {
			buf = protocol.AppendPush(buf, 1000, body)
		}
	}
}

// costComet is a comet whose every request costs a fixed time (spent
// yielding, or sleeping when 1ms or more) and that records each message's
// latency from the 8-byte send time in its body.
type costComet struct {
	cost  time.Duration
	start time.Time
	msgs  atomic.Int64

	mu  sync.Mutex // guards lat
	lat []time.Duration
}

func (c *costComet) BroadcastRoom(_ context.Context, req *cometrpc.BroadcastRoomReq) error {
	now := time.Since(c.start)
	c.mu.Lock()
	n := 0
	for p, err := range protocol.Packets(req.Batch, 0) {
		if err != nil {
			c.mu.Unlock()
			return err
		}
		c.lat = append(c.lat, now-time.Duration(binary.BigEndian.Uint64(p.Body)))
		n++
	}
	c.mu.Unlock()
	if c.cost >= time.Millisecond {
		time.Sleep(c.cost)
	} else {
		for t0 := time.Now(); time.Since(t0) < c.cost; {
			runtime.Gosched()
		}
	}
	c.msgs.Add(int64(n))
	return nil
}

func (c *costComet) PushKeys(context.Context, *cometrpc.PushKeysReq) error   { return nil }
func (c *costComet) Broadcast(context.Context, *cometrpc.BroadcastReq) error { return nil }
func (c *costComet) Rooms(context.Context) ([]string, error)                 { return nil, nil }

// percentile returns the q-quantile of c's latencies.
func (c *costComet) percentile(q float64) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lat) == 0 {
		return 0
	}
	s := slices.Clone(c.lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// BenchmarkTradeoff measures room batching settings against load. Each
// message carries its send time; "lat-p50/p99-us" are measured at the
// first comet, "msgs/batch" over all batches. Scenarios:
//   - idle: one message at a time, each delivered before the next and
//     sent a window after the previous one (the room is idle again);
//   - load: 10 rooms at 50k msg/s to a comet costing 30us per request
//     (33k requests/s: too slow without batching);
//   - slowcomet: 10 rooms at 5k msg/s to a fast comet and one whose
//     requests take 2ms: how much the slow one delays the fast one.
//
// ns/op is the pace, not a result. Run with -benchtime=20000x or so
// (idle: 200x, as each message waits out the window before it).
func BenchmarkTradeoff(b *testing.B) {
	settings := []struct {
		name string
		cfg  Config
	}{
		{"off", Config{BatchSize: 1}},
		{"w5ms", Config{BatchWindow: 5 * time.Millisecond}},
		{"w20ms", Config{BatchWindow: 20 * time.Millisecond}},
		{"default", Config{}},
		{"default-size20", Config{BatchSize: 20}},
	}
	scenarios := []struct {
		name  string
		costs []time.Duration
		rate  int // messages per second; 0: one at a time
	}{
		{"idle", []time.Duration{5 * time.Microsecond}, 0},
		{"load", []time.Duration{30 * time.Microsecond}, 50000},
		{"slowcomet", []time.Duration{0, 2 * time.Millisecond}, 5000},
	}
	for _, sc := range scenarios {
		for _, st := range settings {
			b.Run(sc.name+"/"+st.name, func(b *testing.B) {
				runTradeoff(b, st.cfg, sc.costs, sc.rate)
			})
		}
	}
}

// runTradeoff runs one BenchmarkTradeoff case.
func runTradeoff(b *testing.B, cfg Config, costs []time.Duration, rate int) {
	start := time.Now()
	logic := &fakeLogic{}
	byAddr := map[string]*costComet{}
	var ids []string
	for i, cost := range costs {
		id := fmt.Sprintf("c%d", i)
		ids = append(ids, id)
		byAddr[cometAddr(id)] = &costComet{cost: cost, start: start, lat: make([]time.Duration, 0, 1<<16)}
	}
	logic.setComets(ids...)
	cfg.Logic = logic
	cfg.CometQueueSize = 1 << 16
	cfg.DialComet = func(addr string) cometrpc.Service { return byAddr[addr] }
	j, err := New(cfg, discardLogger())
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	testwait.For(b, 10*time.Second, "comets", func() bool { return len(j.Stats().Comets) == len(costs) })
	first := byAddr[cometAddr("c0")]
	var interval time.Duration
	if rate > 0 {
		interval = time.Second / time.Duration(rate)
	}
	rooms := [10]string{}
	for i := range rooms {
		rooms[i] = fmt.Sprintf("live://%d", i)
	}
	msg := &jobrpc.PushMsg{Type: jobrpc.PushRoom, Op: 1000, Msg: make([]byte, 8)}
	ctx := context.Background()
	n := 0
	t0 := time.Now()
	for b.Loop() {
		if interval > 0 {
			for next := t0.Add(time.Duration(n) * interval); time.Now().Before(next); {
				runtime.Gosched()
			}
		}
		msg.Room = rooms[n%len(rooms)]
		binary.BigEndian.PutUint64(msg.Msg, uint64(time.Since(start)))
		if err := j.Push(ctx, msg); err != nil {
			b.Fatal(err)
		}
		n++
		if interval == 0 {
			for first.msgs.Load() < int64(n) {
				runtime.Gosched()
			}
			time.Sleep(max(j.cfg.BatchWindow, 0))
		}
	}
	testwait.For(b, time.Minute, "delivery", func() bool { return first.msgs.Load() >= int64(n) })
	s := j.Stats()
	b.ReportMetric(float64(s.BatchedMsgs)/float64(max(s.Batches, 1)), "msgs/batch")
	b.ReportMetric(float64(first.percentile(0.5).Microseconds()), "lat-p50-us")
	b.ReportMetric(float64(first.percentile(0.9).Microseconds()), "lat-p90-us")
	b.ReportMetric(float64(first.percentile(0.99).Microseconds()), "lat-p99-us")
	b.ReportMetric(float64(s.Dropped()), "drops")
}
