package comet

import (
	"context"
	"slices"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/goimx/goim/comet/cometrpc"
)

// The Comet serves job's pushes in process as well as over the RPC.
var _ cometrpc.Service = (*Comet)(nil)

// PushKeys implements cometrpc.Service: the message {Op, Body} goes to the
// connections with the given keys whose accept set holds Op. It is
// encoded once for all of them. Keys not on this comet are counted in
// Stats.KeyMisses. The connections' writer goroutines write: pushes by
// key to one client come one by one, and a writer that runs behind its
// caller takes them many to a write.
func (cm *Comet) PushKeys(ctx context.Context, req *cometrpc.PushKeysReq) error {
	cm.pushes.Add(1)
	if req.Keys.Len() == 0 {
		return nil
	}
	msg := encodePush(req.Op, req.Body, req.Stamp)
	for key := range req.Keys.All() {
		b := cm.bucketByKeyBytes(key)
		c := b.getBytes(key)
		if c == nil {
			cm.keyMisses.Add(1)
			continue
		}
		b.record(c.push(msg, req.Op, true, false))
	}
	return nil
}

// BroadcastRoom implements cometrpc.Service: the batch (packets back to
// back) goes to every connection in the room, with no op filter. The
// batch is copied once into a shared message; each bucket holding the
// room pushes it on the room's worker, so a room's batches stay in order.
// It waits while a worker queue is full (until ctx ends or the comet
// closes). A batch that is not whole packets is refused with ErrBadBatch
// and written to no one.
func (cm *Comet) BroadcastRoom(ctx context.Context, req *cometrpc.BroadcastRoomReq) error {
	cm.pushes.Add(1)
	if req.RoomID == "" || len(req.Batch) == 0 {
		return cometrpc.ErrEmptyPush
	}
	if err := checkBatch(req.Batch); err != nil {
		cm.badBatches.Add(1)
		return err
	}
	var msg []byte
	w := xxhash.Sum64String(req.RoomID) % uint64(cm.cfg.RoomWorkers)
	for _, b := range cm.buckets {
		if b.roomOnline(req.RoomID) == 0 {
			continue
		}
		if msg == nil {
			msg = encodeBatch(req.Batch, req.Stamp)
		}
		if err := cm.send(ctx, b, int(w), task{msg: msg, room: req.RoomID}); err != nil {
			return err
		}
	}
	return nil
}

// Broadcast implements cometrpc.Service: the message {Op, Body} goes to
// every connection whose accept set holds Op. With Speed > 0 it is paced
// at about Speed connections per second on a background goroutine, and
// Broadcast returns at once.
func (cm *Comet) Broadcast(ctx context.Context, req *cometrpc.BroadcastReq) error {
	cm.pushes.Add(1)
	msg := encodePush(req.Op, req.Body, req.Stamp)
	if req.Speed > 0 {
		if !cm.goBackground(func() { cm.broadcastPaced(msg, req.Op, int(req.Speed)) }) {
			return ErrServerClosed
		}
		return nil
	}
	for _, b := range cm.buckets {
		if err := cm.send(ctx, b, 0, task{msg: msg, op: req.Op}); err != nil {
			return err
		}
	}
	return nil
}

// Rooms implements cometrpc.Service: the ids of the rooms with at least
// one connection on this comet, sorted.
func (cm *Comet) Rooms(ctx context.Context) ([]string, error) {
	counts := make(map[string]int32)
	for _, b := range cm.buckets {
		b.count(counts)
	}
	rooms := make([]string, 0, len(counts))
	for id := range counts {
		rooms = append(rooms, id)
	}
	slices.Sort(rooms)
	return rooms, nil
}

// send hands t to b's worker queue w, waiting while it is full.
func (cm *Comet) send(ctx context.Context, b *bucket, w int, t task) error {
	tasks, err := b.queue(w)
	if err != nil {
		return err
	}
	select {
	case tasks <- t:
		return nil
	default:
	}
	select {
	case tasks <- t:
		return nil
	case <-cm.done:
		return ErrServerClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// broadcastPaced pushes msg to every connection accepting op, bucket by
// bucket, at about speed connections per second.
func (cm *Comet) broadcastPaced(msg []byte, op int32, speed int) {
	start := time.Now()
	step := max(1, speed/100) // pause about every 10ms worth of connections
	pushed := 0
	w := newRawWriter()
	for _, b := range cm.buckets {
		var n tally
		authed, _ := b.snapshot()
		for _, c := range authed {
			res := c.push(msg, op, true, true)
			if res == pushFiltered {
				continue
			}
			n.add(res)
			if res == pushClaimed {
				c.flush(w)
			}
			if pushed++; pushed%step == 0 && !cm.sleepUntil(start.Add(time.Duration(pushed)*time.Second/time.Duration(speed))) {
				n.flush(b)
				return
			}
		}
		n.flush(b)
	}
}

// sleepUntil waits until t and reports false if the comet stopped first.
func (cm *Comet) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-cm.done:
		return false
	}
}
