package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/comet/cometrpc"
	"github.com/goimx/goim/internal/testwait"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/protocol"
)

// roomMsg is one message a fake comet received in a room batch.
type roomMsg struct {
	Op   int32
	Seq  uint32
	Body string
}

// roomBatch is one BroadcastRoom call a fake comet received.
type roomBatch struct {
	Room string
	Msgs []roomMsg
}

// fakeComet is an in-process cometrpc.Service that records what it gets.
// A comet made with block set waits in every push until unblock (or until
// its context ends). A light comet only counts, without allocating.
type fakeComet struct {
	id    string
	light bool
	block chan struct{} // nil: never blocks; closed by unblock

	calls  atomic.Int64 // push calls entered
	msgs   atomic.Int64 // messages received (room batch entries, keys and broadcast pushes)
	closed atomic.Int32 // Close calls

	mu        sync.Mutex // guards the fields below
	batches   []roomBatch
	keys      []cometrpc.PushKeysReq
	all       []cometrpc.BroadcastReq
	unblocked bool
}

func newFakeComet(id string, blocked bool) *fakeComet {
	c := &fakeComet{id: id}
	if blocked {
		c.block = make(chan struct{})
	}
	return c
}

// unblock lets every waiting and future push through.
func (c *fakeComet) unblock() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.block != nil && !c.unblocked {
		c.unblocked = true
		close(c.block)
	}
}

func (c *fakeComet) wait(ctx context.Context) error {
	c.calls.Add(1)
	if c.block == nil {
		return nil
	}
	select {
	case <-c.block:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *fakeComet) PushKeys(ctx context.Context, req *cometrpc.PushKeysReq) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	c.msgs.Add(1)
	if c.light {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys = append(c.keys, cometrpc.PushKeysReq{
		Op: req.Op, Keys: slices.Clone(req.Keys), Body: slices.Clone(req.Body)})
	return nil
}

func (c *fakeComet) BroadcastRoom(ctx context.Context, req *cometrpc.BroadcastRoomReq) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	if c.light {
		n := 0
		for b := req.Batch; len(b) > 0; n++ {
			var err error
			if _, b, err = protocol.NextPacket(b, 0); err != nil {
				return err
			}
		}
		c.msgs.Add(int64(n))
		return nil
	}
	rb := roomBatch{Room: req.RoomID}
	for p, err := range protocol.Packets(req.Batch, 0) {
		if err != nil {
			return err
		}
		rb.Msgs = append(rb.Msgs, roomMsg{Op: p.Op, Seq: uint32(p.Seq), Body: string(p.Body)})
	}
	c.msgs.Add(int64(len(rb.Msgs)))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, rb)
	return nil
}

func (c *fakeComet) Broadcast(ctx context.Context, req *cometrpc.BroadcastReq) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	c.msgs.Add(1)
	if c.light {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, cometrpc.BroadcastReq{Op: req.Op, Speed: req.Speed, Body: slices.Clone(req.Body)})
	return nil
}

func (c *fakeComet) Rooms(context.Context) ([]string, error) { return nil, nil }

func (c *fakeComet) Close() error {
	c.closed.Add(1)
	return nil
}

// roomBodies returns the bodies received for room, in order.
func (c *fakeComet) roomBodies(room string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, b := range c.batches {
		if b.Room != room {
			continue
		}
		for _, m := range b.Msgs {
			out = append(out, m.Body)
		}
	}
	return out
}

// roomSeqs returns the sequence numbers received for room, in order.
func (c *fakeComet) roomSeqs(room string) []uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []uint32
	for _, b := range c.batches {
		if b.Room != room {
			continue
		}
		for _, m := range b.Msgs {
			out = append(out, m.Seq)
		}
	}
	return out
}

// batchSizes returns the number of messages of each batch for room.
func (c *fakeComet) batchSizes(room string) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for _, b := range c.batches {
		if b.Room == room {
			out = append(out, len(b.Msgs))
		}
	}
	return out
}

func (c *fakeComet) keyPushes() []cometrpc.PushKeysReq {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.keys)
}

func (c *fakeComet) broadcasts() []cometrpc.BroadcastReq {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.all)
}

// fakeLogic is an in-process logicrpc.Service answering Nodes from a
// settable comet list and recording reports. Its other methods are not
// used by the job (the embedded nil interface panics if they are).
type fakeLogic struct {
	logicrpc.Service

	nodesCalls atomic.Int64

	mu       sync.Mutex // guards the fields below
	comets   []logicrpc.NodeInfo
	nodesErr error
	reports  []logicrpc.ReportReq
}

// cometAddr is the fake RPC address of comet id.
func cometAddr(id string) string { return "addr-" + id }

func (l *fakeLogic) setComets(ids ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.comets = l.comets[:0]
	for _, id := range ids {
		l.comets = append(l.comets, logicrpc.NodeInfo{ID: id, Kind: logicrpc.KindComet, RPCAddr: cometAddr(id)})
	}
}

func (l *fakeLogic) setNodesErr(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nodesErr = err
}

func (l *fakeLogic) Nodes(_ context.Context, req *logicrpc.NodesReq) (*logicrpc.NodesReply, error) {
	l.nodesCalls.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.nodesErr != nil {
		return nil, l.nodesErr
	}
	if req.Kind != logicrpc.KindComet {
		return &logicrpc.NodesReply{}, nil
	}
	return &logicrpc.NodesReply{Nodes: slices.Clone(l.comets)}, nil
}

func (l *fakeLogic) Report(_ context.Context, req *logicrpc.ReportReq) (*logicrpc.ReportReply, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reports = append(l.reports, *req)
	return &logicrpc.ReportReply{}, nil
}

func (l *fakeLogic) lastReport() (logicrpc.ReportReq, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.reports) == 0 {
		return logicrpc.ReportReq{}, false
	}
	return l.reports[len(l.reports)-1], true
}

// harness is a Job wired to a fake logic and fake comets.
type harness struct {
	t     testing.TB
	logic *fakeLogic
	job   *Job

	mu     sync.Mutex // guards comets
	comets map[string]*fakeComet
}

// newHarness starts a job with cfg (Logic and DialComet replaced) whose
// logic lists the comets ids; comets named in blocked block every push.
// It waits until the job knows them; the test's cleanup closes the job.
func newHarness(t testing.TB, cfg Config, ids []string, blocked ...string) *harness {
	t.Helper()
	var comets []*fakeComet
	for _, id := range ids {
		comets = append(comets, newFakeComet(id, slices.Contains(blocked, id)))
	}
	return startHarness(t, cfg, comets)
}

// newLightHarness is newHarness with light comets, which only count.
func newLightHarness(t testing.TB, cfg Config, ids ...string) *harness {
	t.Helper()
	var comets []*fakeComet
	for _, id := range ids {
		c := newFakeComet(id, false)
		c.light = true
		comets = append(comets, c)
	}
	return startHarness(t, cfg, comets)
}

// startHarness starts a job whose logic lists comets.
func startHarness(t testing.TB, cfg Config, comets []*fakeComet) *harness {
	t.Helper()
	h := &harness{t: t, logic: &fakeLogic{}, comets: map[string]*fakeComet{}}
	var ids []string
	for _, c := range comets {
		h.comets[c.id] = c
		ids = append(ids, c.id)
	}
	h.logic.setComets(ids...)
	cfg.Logic = h.logic
	cfg.DialComet = h.dial
	j, err := New(cfg, discardLogger())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.job = j
	t.Cleanup(func() {
		for _, c := range h.allComets() {
			c.unblock()
		}
		j.Close()
	})
	h.waitComets(ids...)
	return h
}

// dial implements Config.DialComet over the fake comets, making a comet
// unknown so far.
func (h *harness) dial(addr string) cometrpc.Service {
	id := strings.TrimPrefix(addr, "addr-")
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.comets[id]
	if c == nil {
		c = newFakeComet(id, false)
		h.comets[id] = c
	}
	return c
}

func (h *harness) comet(id string) *fakeComet {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.comets[id]
}

func (h *harness) allComets() []*fakeComet {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*fakeComet
	for _, c := range h.comets {
		out = append(out, c)
	}
	return out
}

// cometIDs returns the ids of the comets the job fans out to.
func (h *harness) cometIDs() []string {
	var ids []string
	for _, c := range h.job.Stats().Comets {
		ids = append(ids, c.ID)
	}
	return ids
}

// waitComets waits until the job fans out to exactly ids.
func (h *harness) waitComets(ids ...string) {
	h.t.Helper()
	want := slices.Sorted(slices.Values(ids))
	testwait.For(h.t, 10*time.Second, fmt.Sprintf("comets %v", want), func() bool {
		return slices.Equal(h.cometIDs(), want)
	})
}

// pushRoom pushes one room message and fails the test on error.
func (h *harness) pushRoom(room, body string) {
	h.t.Helper()
	err := h.job.Push(context.Background(), &jobrpc.PushMsg{
		Type: jobrpc.PushRoom, Op: 1000, Room: room, Msg: []byte(body)})
	if err != nil {
		h.t.Fatalf("push room %s: %v", room, err)
	}
}

// waitMsgs waits until comet id received n messages.
func (h *harness) waitMsgs(id string, n int64) {
	h.t.Helper()
	c := h.comet(id)
	testwait.For(h.t, 10*time.Second, fmt.Sprintf("%d messages at comet %s", n, id), func() bool {
		return c.msgs.Load() >= n
	})
}

// bodies returns "m0".."m<n-1>".
func bodies(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("m%d", i)
	}
	return out
}

var errLogicDown = errors.New("fake logic down")

// received returns the messages the comets got so far.
func received(comets []*fakeComet) int64 {
	var n int64
	for _, c := range comets {
		n += c.msgs.Load()
	}
	return n
}

func (l *fakeLogic) reportCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reports)
}

// reportsSince returns the reports from the n-th on.
func (l *fakeLogic) reportsSince(n int) []logicrpc.ReportReq {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reports[n:])
}
