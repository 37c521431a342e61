package protocol_test

import (
	"testing"

	"github.com/goimx/goim/bufio"
	"github.com/goimx/goim/protocol"
)

// benchBodyLen is the body size of the benchmarked packets: a typical
// danmaku message.
const benchBodyLen = 128

func BenchmarkAppend(b *testing.B) {
	p := protocol.Packet{Ver: 1, Op: protocol.OpSendMsg, Seq: 1, Body: body(benchBodyLen)}
	buf := make([]byte, 0, 1024)
	b.SetBytes(protocol.HeaderLen + benchBodyLen)
	b.ReportAllocs()
	for b.Loop() {
		buf = p.Append(buf[:0])
	}
}

func BenchmarkHeartbeatReply(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = protocol.AppendHeartbeatReply(buf[:0], 7, 1000)
	}
}

func BenchmarkReadFrom(b *testing.B) {
	_, stream := streamOf(benchBodyLen, benchBodyLen, benchBodyLen, benchBodyLen)
	r := bufio.NewReaderSize(&loopReader{data: stream}, 4096)
	var p protocol.Packet
	b.SetBytes(protocol.HeaderLen + benchBodyLen)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.ReadFrom(r, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	msg := validPacket(1, protocol.OpSendMsg, 1, body(benchBodyLen))
	var p protocol.Packet
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Decode(msg, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// batchSize is the number of pushes in a benchmarked batch.
const batchSize = 32

func BenchmarkBatchBuild(b *testing.B) {
	msg := body(benchBodyLen)
	frame := make([]byte, 0, protocol.HeaderLen+batchSize*(protocol.HeaderLen+benchBodyLen))
	b.SetBytes(int64(cap(frame)))
	b.ReportAllocs()
	for b.Loop() {
		frame = protocol.AppendRawHeader(frame[:0], batchSize*(protocol.HeaderLen+len(msg)))
		for range batchSize {
			frame = protocol.AppendPush(frame, 1000, msg)
		}
	}
}

func BenchmarkBatchIterate(b *testing.B) {
	lens := make([]int, batchSize)
	for i := range lens {
		lens[i] = benchBodyLen
	}
	_, batch := buildBatch(lens...)
	b.Run("NextPacket", func(b *testing.B) {
		b.SetBytes(int64(len(batch)))
		b.ReportAllocs()
		for b.Loop() {
			for rest := batch; len(rest) > 0; {
				var err error
				if _, rest, err = protocol.NextPacket(rest, 0); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("Packets", func(b *testing.B) {
		b.SetBytes(int64(len(batch)))
		b.ReportAllocs()
		for b.Loop() {
			for _, err := range protocol.Packets(batch, 0) {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
