package job

import (
	"sync"
	"sync/atomic"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/rpc"
)

// maxPooledBuf is the largest buffer capacity a payload keeps when it goes
// back to the pool; bigger buffers (an unusually large message) are dropped
// so the pool does not pin them.
const maxPooledBuf = 256 << 10

// payload is one encoded unit on its way to the comets: a room batch, a
// push to keys or a broadcast. It is encoded once and shared by every comet
// worker it is queued to; refs counts the holders and the last release
// returns it to the pool. Only the room (or, for keys and broadcasts, the
// push call) writes it, before it is handed out; comet workers only read.
type payload struct {
	kind   jobrpc.PushType
	op     int32          // PushKeys and PushAll
	speed  int32          // PushAll: pace per comet
	msgs   uint64         // messages in buf: many for a room batch, else 1
	room   *room          // PushRoom: told when the last comet is done
	roomID string         // PushRoom
	keys   rpc.StringList // PushKeys
	buf    []byte         // room batch (packets back to back) or message body
	stamp  int64          // when logic accepted the (oldest) message, Unix nanoseconds; 0: unknown
	refs   atomic.Int32
}

// payloadPool recycles payloads and their buffers.
type payloadPool struct {
	p sync.Pool
}

// get returns an empty payload.
func (pp *payloadPool) get() *payload {
	if p, ok := pp.p.Get().(*payload); ok {
		return p
	}
	return &payload{buf: make([]byte, 0, 1024)}
}

// put clears p and returns it to the pool. p must not be used after.
func (pp *payloadPool) put(p *payload) {
	p.kind, p.op, p.speed, p.msgs, p.stamp = 0, 0, 0, 0, 0
	p.room, p.roomID = nil, ""
	p.keys = p.keys[:0]
	if cap(p.keys) > maxPooledBuf {
		p.keys = nil
	}
	if cap(p.buf) > maxPooledBuf {
		p.buf = make([]byte, 0, 1024)
	}
	p.buf = p.buf[:0]
	pp.p.Put(p)
}
