package job

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/protocol"
)

// BenchmarkRoomHistory is the A/B of room history on the room push path:
// the same pushes as BenchmarkPushRoom (4 counting comets), history off
// and on (100 messages), in one run so the two compare as a ratio.
func BenchmarkRoomHistory(b *testing.B) {
	for _, size := range []int{64, 1024} {
		for _, rooms := range []int{1, 100} {
			for _, hist := range []struct {
				name string
				size int
			}{{"off", -1}, {"on", 0}} {
				b.Run(fmt.Sprintf("body=%d/rooms=%d/history=%s", size, rooms, hist.name), func(b *testing.B) {
					h := newLightHarness(b, Config{CometQueueSize: 1 << 16, HistorySize: hist.size}, "c0", "c1", "c2", "c3")
					names := make([]string, rooms)
					for i := range names {
						names[i] = fmt.Sprintf("live://%d", i)
					}
					msg := &jobrpc.PushMsg{Type: jobrpc.PushRoom, Op: 1000, Msg: make([]byte, size)}
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
					waitDelivered(b, h.job, h.allComets(), int64(4*i))
				})
			}
		}
	}
}

// BenchmarkHistoryMemory reports the heap a room with a full history
// holds (bytes/room): 1000 rooms, each sent HistorySize+10 messages of
// body bytes, measured after a GC against the same job before.
func BenchmarkHistoryMemory(b *testing.B) {
	for _, body := range []int{64, 1024} {
		b.Run(fmt.Sprintf("body=%d", body), func(b *testing.B) {
			const rooms = 1000
			for b.Loop() {
				h := newLightHarness(b, Config{CometQueueSize: 1 << 20}, "c0")
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				msg := &jobrpc.PushMsg{Type: jobrpc.PushRoom, Op: 1000, Msg: make([]byte, body)}
				for r := range rooms {
					msg.Room = fmt.Sprintf("live://%d", r)
					for range DefaultHistorySize + 10 {
						if err := h.job.Push(context.Background(), msg); err != nil {
							b.Fatal(err)
						}
					}
				}
				waitDelivered(b, h.job, h.allComets(), rooms*(DefaultHistorySize+10))
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/rooms, "bytes/room")
				h.job.Close()
			}
		})
	}
}

// BenchmarkHistory is the job's side of one resume: 50 missed messages
// of 64 bytes out of a full history.
func BenchmarkHistory(b *testing.B) {
	h := newLightHarness(b, Config{}, "c0")
	msg := &jobrpc.PushMsg{Type: jobrpc.PushRoom, Op: 1000, Room: "live://1", Msg: make([]byte, 64)}
	for range DefaultHistorySize {
		if err := h.job.Push(context.Background(), msg); err != nil {
			b.Fatal(err)
		}
	}
	first, err := h.job.History(context.Background(), &jobrpc.HistoryReq{Room: "live://1"})
	if err != nil {
		b.Fatal(err)
	}
	req := &jobrpc.HistoryReq{Room: "live://1", Epoch: first.Epoch, After: first.Last - 50}
	b.ReportAllocs()
	for b.Loop() {
		rep, err := h.job.History(context.Background(), req)
		if err != nil || !rep.Complete {
			b.Fatalf("history: %+v %v", rep, err)
		}
	}
}

// BenchmarkHistoryAdd is what history adds per room message: recording
// one packet (64-byte body) in a full ring of DefaultHistorySize, with the
// age check, as addLocked does.
func BenchmarkHistoryAdd(b *testing.B) {
	pkt := protocol.AppendPushSeq(nil, 1000, 1, make([]byte, 64))
	var h history
	now := time.Now()
	for i := range DefaultHistorySize {
		h.add(uint32(i+1), now, pkt, DefaultHistorySize)
	}
	seq := uint32(DefaultHistorySize)
	b.ReportAllocs()
	for b.Loop() {
		seq++
		h.prune(now, DefaultHistoryAge)
		h.add(seq, now, pkt, DefaultHistorySize)
	}
}
