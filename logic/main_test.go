package logic

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/goimx/goim/internal/leaktest"
	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
)

// TestMain fails the run when goroutines running code of this module
// outlive the tests.
func TestMain(m *testing.M) {
	leaktest.Main(m, 5*time.Second, "github.com/goimx/goim/")
}

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fakeJob is an in-process job service recording what it was given.
type fakeJob struct {
	id string

	mu     sync.Mutex // guards msgs, err, errFor, linked, closed
	msgs   []jobrpc.PushMsg
	err    error
	errFor map[string]error // comet id -> error of the keys pushes to it
	linked int              // what PushLinked answers; -1 (set by dial): unknown
	closed bool
}

// PushLinked implements jobrpc.LinkedPusher.
func (j *fakeJob) PushLinked(ctx context.Context, m *jobrpc.PushMsg) (int, error) {
	if err := j.Push(ctx, m); err != nil {
		return 0, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.linked, nil
}

// setLinked sets what PushLinked answers.
func (j *fakeJob) setLinked(n int) {
	j.mu.Lock()
	j.linked = n
	j.mu.Unlock()
}

func (j *fakeJob) Push(_ context.Context, m *jobrpc.PushMsg) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	if err := j.errFor[m.Server]; err != nil {
		return err
	}
	c := *m
	c.Keys = slices.Clone(m.Keys)
	c.Msg = slices.Clone(m.Msg)
	j.msgs = append(j.msgs, c)
	return nil
}

func (j *fakeJob) Close() error {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	return nil
}

func (j *fakeJob) received() []jobrpc.PushMsg {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.msgs)
}

func (j *fakeJob) setErr(err error) {
	j.mu.Lock()
	j.err = err
	j.mu.Unlock()
}

// setErrFor makes the keys pushes to comet server fail with err.
func (j *fakeJob) setErrFor(server string, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.errFor == nil {
		j.errFor = make(map[string]error)
	}
	j.errFor[server] = err
}

func (j *fakeJob) isClosed() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.closed
}

// jobSet hands out fakeJobs by node id through Config.DialJob.
type jobSet struct {
	mu   sync.Mutex // guards jobs, fail
	jobs map[string]*fakeJob
	fail error // error of the jobs dialled from now on
}

func newJobSet() *jobSet { return &jobSet{jobs: make(map[string]*fakeJob)} }

func (s *jobSet) dial(n logicrpc.NodeInfo) (jobrpc.Service, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := &fakeJob{id: n.ID, err: s.fail, linked: -1}
	s.jobs[n.ID] = j
	return j, nil
}

func (s *jobSet) failWith(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

func (s *jobSet) get(id string) *fakeJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobs[id]
}

// all returns every message every job received, by job id.
func (s *jobSet) all() map[string][]jobrpc.PushMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]jobrpc.PushMsg)
	for id, j := range s.jobs {
		if m := j.received(); len(m) > 0 {
			out[id] = m
		}
	}
	return out
}

// testEnv is a Logic with a fake clock and in-process fake jobs.
type testEnv struct {
	l     *Logic
	clock *fakeClock
	jobs  *jobSet
}

func newTestEnv(t testing.TB, mod func(*Config)) *testEnv {
	t.Helper()
	e := &testEnv{clock: newFakeClock(), jobs: newJobSet()}
	cfg := Config{Now: e.clock.Now, DialJob: e.jobs.dial}
	if mod != nil {
		mod(&cfg)
	}
	l, err := New(cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	e.l = l
	return e
}

// report sends a node report and fails the test on error.
func (e *testEnv) report(t testing.TB, n logicrpc.NodeInfo, rooms map[string]int32) *logicrpc.ReportReply {
	t.Helper()
	rep, err := e.l.Report(context.Background(), &logicrpc.ReportReq{Node: n, RoomCount: rooms})
	if err != nil {
		t.Fatalf("report %s: %v", n.ID, err)
	}
	return rep
}

func (e *testEnv) addJob(t testing.TB, id string) {
	t.Helper()
	e.report(t, logicrpc.NodeInfo{ID: id, Kind: logicrpc.KindJob, RPCAddr: id + ":1"}, nil)
}

// addComet reports comet id (cometInfo) with rooms, from the RPC address
// the registry has for it if it is live: a node reporting again reports
// from where it is (another address would be refused).
func (e *testEnv) addComet(t testing.TB, id string, rooms map[string]int32) {
	t.Helper()
	n := cometInfo(id)
	for _, live := range e.l.reg.nodes(logicrpc.KindComet, e.clock.Now()) {
		if live.ID == id {
			n.RPCAddr = live.RPCAddr
		}
	}
	e.report(t, n, rooms)
}

func cometInfo(id string) logicrpc.NodeInfo {
	return logicrpc.NodeInfo{
		ID: id, Kind: logicrpc.KindComet, RPCAddr: "10.0.0.1:3109", Addrs: []string{id + ".addr"},
		Hostname: id, Weight: 10,
	}
}

// connect connects a client with the given token on server and returns
// the reply.
func (e *testEnv) connect(t testing.TB, server string, connID uint64, token string) *logicrpc.ConnectReply {
	t.Helper()
	rep, err := e.l.Connect(context.Background(), &logicrpc.ConnectReq{Server: server, ConnID: connID, Token: []byte(token)})
	if err != nil {
		t.Fatalf("connect %s: %v", token, err)
	}
	return rep
}
