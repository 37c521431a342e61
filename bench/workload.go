package bench

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/goimx/goim/client"
)

// Kinds of push a Workload makes.
const (
	KindRoom = "room" // push/room: every connection is in the room
	KindKeys = "keys" // push/keys: one key per push, round robin
	KindMids = "mids" // push/mids: one user (Devices connections) per push, round robin
	KindAll  = "all"  // push/all: every connection accepts the op
)

// ErrWorkload reports a Workload that cannot run.
var ErrWorkload = errors.New("bench: bad workload")

// Workload describes the connections of a Fleet and the pushes made to
// them. Every connection i authenticates with key KeyPrefix-i, user
// MidBase + i/Devices, room RoomType://Room and accepts Op, so one Fleet
// serves every kind of push.
type Workload struct {
	// Kind is KindRoom, KindKeys, KindMids or KindAll.
	Kind string
	// Op is the operation of the pushes. Zero means 1000.
	Op int32
	// RoomType and Room name the room; empty means "live" and "1000".
	RoomType, Room string
	// KeyPrefix starts every connection key. Empty means "bench".
	KeyPrefix string
	// MidBase is the first user id. Zero means 1.
	MidBase int64
	// Devices is the number of connections per user. Zero means 1.
	Devices int
	// Size is the message body size in bytes; at least StampLen is used.
	Size int
}

// withDefaults returns w with its zero fields set.
func (w Workload) withDefaults() Workload {
	if w.Op == 0 {
		w.Op = 1000
	}
	if w.RoomType == "" {
		w.RoomType = "live"
	}
	if w.Room == "" {
		w.Room = "1000"
	}
	if w.KeyPrefix == "" {
		w.KeyPrefix = "bench"
	}
	if w.MidBase == 0 {
		w.MidBase = 1
	}
	if w.Devices <= 0 {
		w.Devices = 1
	}
	w.Size = max(w.Size, StampLen)
	return w
}

// check reports a Workload that cannot run.
func (w Workload) check() error {
	switch w.Kind {
	case KindRoom, KindKeys, KindMids, KindAll:
		return nil
	}
	return fmt.Errorf("%w: kind %q", ErrWorkload, w.Kind)
}

// RoomID returns the room id of the tokens, "type://room".
func (w Workload) RoomID() string {
	w = w.withDefaults()
	return w.RoomType + "://" + w.Room
}

// Key returns the key of connection i.
func (w Workload) Key(i int) string {
	w = w.withDefaults()
	return w.KeyPrefix + "-" + strconv.Itoa(i)
}

// Token returns the token of connection i.
func (w Workload) Token(i int) client.Token {
	w = w.withDefaults()
	return client.Token{
		Mid:      w.MidBase + int64(i/w.Devices),
		Key:      w.Key(i),
		RoomID:   w.RoomID(),
		Platform: "web",
		Accepts:  []int32{w.Op},
	}
}

// PerPush returns how many deliveries one push makes to n connections.
func (w Workload) PerPush(n int) int {
	w = w.withDefaults()
	switch w.Kind {
	case KindKeys:
		return 1
	case KindMids:
		return min(w.Devices, n)
	}
	return n
}

// pathBuilder appends the request target of push seq, for n connections.
type pathBuilder struct {
	w      Workload
	n      int
	prefix []byte // everything up to the per-push part
}

// newPathBuilder returns the builder of w's push requests to n
// connections.
func newPathBuilder(w Workload, n int) *pathBuilder {
	w = w.withDefaults()
	op := strconv.Itoa(int(w.Op))
	var prefix string
	switch w.Kind {
	case KindRoom:
		prefix = "/goim/push/room?operation=" + op + "&type=" + url.QueryEscape(w.RoomType) + "&room=" + url.QueryEscape(w.Room)
	case KindKeys:
		prefix = "/goim/push/keys?operation=" + op + "&keys=" + url.QueryEscape(w.KeyPrefix) + "-"
	case KindMids:
		prefix = "/goim/push/mids?operation=" + op + "&mids="
	default:
		prefix = "/goim/push/all?operation=" + op
	}
	return &pathBuilder{w: w, n: max(n, 1), prefix: []byte(prefix)}
}

// append appends the request target of push seq to b.
func (p *pathBuilder) append(b []byte, seq uint32) []byte {
	b = append(b, p.prefix...)
	switch p.w.Kind {
	case KindKeys:
		b = strconv.AppendUint(b, uint64(seq)%uint64(p.n), 10)
	case KindMids:
		users := max(p.n/p.w.Devices, 1)
		b = strconv.AppendInt(b, p.w.MidBase+int64(uint64(seq)%uint64(users)), 10)
	}
	return b
}
