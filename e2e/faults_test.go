package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/client"
	"github.com/goimx/goim/internal/testwait"
	"github.com/redis/go-redis/v9"
)

// The Redis the fault test's logic nodes share: database 13 (the logic
// package's tests use 12), emptied before and after the test.
const (
	faultsRedisAddr = "127.0.0.1:6379"
	faultsRedisDB   = 13
)

// Windows of the fault test's checks (see checkDelivery).
const (
	// inFlightGrace: a client whose connection ended less than this after
	// a push was answered may have lost that push with its comet: the
	// push was queued in a job, or written to the comet's socket, when
	// the comet died (delivery is at most once to a comet that dies).
	inFlightGrace = time.Second
	// linkGrace: a push sent less than this after a client's connection
	// ended may still be counted for it: the job learns the comet died
	// when its RPC connection to the comet breaks, which on loopback is
	// the moment the clients see theirs break; the job's reader may need
	// a moment to be scheduled on a loaded machine (250ms proved too
	// short with other test binaries busy on both cores).
	linkGrace = time.Second
	// faultPhase is the time between two steps of the fault sequence.
	faultPhase = 1500 * time.Millisecond
	// pushEvery is the pause between two pushes of one pusher.
	pushEvery = 30 * time.Millisecond
	// reconnectDelay is how long a client whose connection broke waits
	// before it connects to another comet, as an application backs off:
	// meanwhile its session still names the dead comet, which is still
	// in the registry (node TTL), and pushes to it must not count it.
	reconnectDelay = time.Second
)

// faultsRedis returns a client of the test's Redis database, emptied now
// and at the end of the test. Without a Redis it skips the test, unless
// CI=true, when it fails it.
func faultsRedis(t *testing.T) {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: faultsRedisAddr, DB: faultsRedisDB})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rc.Ping(ctx).Err(); err != nil {
		rc.Close()
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Redis at %s (CI=true requires one): %v", faultsRedisAddr, err)
		}
		t.Skipf("no Redis at %s (%v): start redis-server (.ci/run does), or set CI=true to make this a failure", faultsRedisAddr, err)
	}
	if err := rc.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := rc.FlushDB(ctx).Err(); err != nil {
			t.Errorf("empty Redis db %d: %v", faultsRedisDB, err)
		}
		rc.Close()
	})
}

// redisCluster is 2 logic nodes on one Redis, 2 jobs and 2 comets, each
// a process; comets and jobs are given both logic addresses.
type redisCluster struct {
	logics []*cluster // one per logic node: its HTTP API (and the comets)
	jobs   []*proc
	comets []*cometNode
}

// startRedisCluster starts the processes and waits until both logic
// nodes list both comets, a broadcast reaches every comet and both jobs
// know both comets.
func startRedisCluster(t *testing.T) *redisCluster {
	t.Helper()
	p := freePorts(t, 12)
	rc := &redisCluster{}
	var logicRPC []string
	for i := range 2 {
		c := &cluster{httpURL: "http://" + loop(p[2*i]), logicRPC: loop(p[2*i+1]), http: newHTTPClient(t)}
		args := append(c.logicArgs(), "-redis", fmt.Sprintf("redis://%s/%d", faultsRedisAddr, faultsRedisDB),
			"-registry-refresh", "100ms")
		c.logic = startProc(t, fmt.Sprintf("logic-%d", i), "logic", args...)
		rc.logics = append(rc.logics, c)
		logicRPC = append(logicRPC, c.logicRPC)
	}
	for _, c := range rc.logics {
		c.logic.waitLog(t, `msg="logic: started"`, 1)
	}
	logicList := strings.Join(logicRPC, ",")
	for i := range 2 {
		args := append(commonArgs(), "-logic", logicList, "-rpc", loop(p[4+i]), "-node-id", fmt.Sprintf("job-%d", i),
			"-comet-refresh", cometRefresh, "-report-interval", reportInterval, "-rpc-max-backoff", rpcMaxBackoff)
		rc.jobs = append(rc.jobs, startProc(t, fmt.Sprintf("job-%d", i), "job", args...))
	}
	for i, name := range []string{"comet-a", "comet-b"} {
		n := &cometNode{id: name, addrs: fmt.Sprintf("10.0.0.%d", i+1),
			tcp: loop(p[6+3*i]), ws: loop(p[7+3*i]), rpc: loop(p[8+3*i])}
		args := append(commonArgs(), "-logic", logicList, "-node-id", n.id, "-addrs", n.addrs,
			"-tcp", n.tcp, "-ws", n.ws, "-rpc", n.rpc, "-register-wait", "10s",
			"-report-interval", reportInterval, "-rpc-max-backoff", rpcMaxBackoff, "-send-queue", sendQueue)
		n.proc = startProc(t, name, "comet", args...)
		rc.comets = append(rc.comets, n)
	}
	for _, c := range rc.logics {
		c.comets = rc.comets
	}
	t.Cleanup(func() { rc.stopAll(t) })
	for _, c := range rc.logics {
		c.ready(t)
	}
	rc.waitJobsKnowComets(t)
	return rc
}

// waitJobsKnowComets waits until every job logged that every comet joined
// its list since the job's (re)start.
func (rc *redisCluster) waitJobsKnowComets(t *testing.T) {
	t.Helper()
	for _, j := range rc.jobs {
		for _, n := range rc.comets {
			j.waitLog(t, `msg="job: comet joined" comet=`+n.id, 1)
		}
	}
}

// roomJob returns the job whose last stats line counts more room pushes.
func (rc *redisCluster) roomJob(t *testing.T) *proc {
	t.Helper()
	best, bestN := rc.jobs[0], -1
	for _, j := range rc.jobs {
		out := j.out.String()
		i := strings.LastIndex(out, "push_room=")
		if i < 0 {
			continue
		}
		field, _, _ := strings.Cut(out[i+len("push_room="):], " ")
		if n, err := strconv.Atoi(field); err == nil && n > bestN {
			best, bestN = j, n
		}
	}
	if bestN <= 0 {
		t.Fatal("no job logged room pushes")
	}
	return best
}

// stopAll stops every process still running with SIGTERM, comets first.
func (rc *redisCluster) stopAll(t *testing.T) {
	t.Helper()
	var procs []*proc
	for _, n := range rc.comets {
		procs = append(procs, n.proc)
	}
	procs = append(procs, rc.jobs...)
	for _, c := range rc.logics {
		procs = append(procs, c.logic)
	}
	for _, p := range procs {
		if !p.exited() {
			p.stop(t)
		}
	}
}

// faultOp is the operation of the fault test's pushes.
const faultOp = 1000

// faultRoom is the room every client of the fault test joins.
const faultRoom = "faults"

// life is one connection of a test client: when it was authenticated,
// when its reader saw it end, and what it received.
type life struct {
	comet       string
	connectedAt time.Time
	closedAt    time.Time            // zero while open
	got         map[string]time.Time // body -> arrival
}

// faultClient is a client that, when its connection breaks, connects
// again to a comet other than the one it lost (as an application does),
// keeping its key and mid.
type faultClient struct {
	key  string
	mid  int64
	rc   *redisCluster
	stop *atomic.Bool // set at the end: connections that end are not replaced

	mu    sync.Mutex // guards lives
	lives []*life
	conn  *client.Conn // the current connection
	wg    sync.WaitGroup
}

// dialOn connects c to comet n and starts its reader.
func (c *faultClient) dialOn(n *cometNode) error {
	ctx, cancel := context.WithTimeout(context.Background(), recvTimeout)
	defer cancel()
	conn, err := client.Dial(ctx, client.Config{Addr: n.tcp, Token: token(c.mid, c.key, "live://"+faultRoom, faultOp)})
	if err != nil {
		return err
	}
	l := &life{comet: n.id, connectedAt: time.Now(), got: make(map[string]time.Time)}
	c.mu.Lock()
	c.lives = append(c.lives, l)
	c.conn = conn
	c.mu.Unlock()
	c.wg.Add(1)
	go c.read(conn, l, n)
	return nil
}

// read records the pushes of one connection; when it ends, it connects
// again to another comet unless the test is stopping.
func (c *faultClient) read(conn *client.Conn, l *life, n *cometNode) {
	defer c.wg.Done()
	for {
		m, err := conn.Read()
		now := time.Now()
		if err != nil {
			c.mu.Lock()
			l.closedAt = now
			c.mu.Unlock()
			break
		}
		if m.Op == faultOp {
			c.mu.Lock()
			if _, dup := l.got[string(m.Body)]; !dup {
				l.got[string(m.Body)] = now
			}
			c.mu.Unlock()
		}
	}
	conn.Close()
	time.Sleep(reconnectDelay)
	deadline := time.Now().Add(recvTimeout)
	for !c.stop.Load() && time.Now().Before(deadline) {
		for _, other := range c.rc.comets {
			if other != n && c.dialOn(other) == nil {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// close closes the current connection and waits for the readers.
func (c *faultClient) close() {
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	c.wg.Wait()
}

// liveAt returns the connection of c that was authenticated before t and
// had not ended at t, or nil.
func (c *faultClient) liveAt(t time.Time) *life {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.lives {
		if l.connectedAt.Before(t) && (l.closedAt.IsZero() || l.closedAt.After(t)) {
			return l
		}
	}
	return nil
}

// lastClosedBefore returns when the last connection of c that ended
// before t ended, or the zero time.
func (c *faultClient) lastClosedBefore(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var last time.Time
	for _, l := range c.lives {
		if !l.closedAt.IsZero() && l.closedAt.Before(t) && l.closedAt.After(last) {
			last = l.closedAt
		}
	}
	return last
}

// received reports whether any connection of c received body.
func (c *faultClient) received(body string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.lives {
		if _, ok := l.got[body]; ok {
			return true
		}
	}
	return false
}

// pushRecord is one push of the fault test and its answer.
type pushRecord struct {
	kind       string // "keys", "mids" or "room"
	body       string
	via        int   // the logic node asked
	targets    []int // indexes of the clients addressed
	sentAt     time.Time
	answeredAt time.Time
	status     int
	code       int
	message    string
	data       pushData
	err        error
}

// ok reports whether the push was answered HTTP 200, code 0.
func (p *pushRecord) ok() bool { return p.err == nil && p.status == http.StatusOK && p.code == 0 }

// pusher pushes through logic node via, in turn to keys, mids and the
// room, every pushEvery until stop is closed.
func (rc *redisCluster) pusher(t *testing.T, via int, clients []*faultClient, stop <-chan struct{}, out *[]*pushRecord, mu *sync.Mutex) {
	c := rc.logics[via]
	half := len(clients) / 2
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			return
		case <-time.After(pushEvery):
		}
		// Two targets for key and mid pushes: one client that started on
		// each comet.
		a, b := seq%half, half+(seq/3)%half
		p := &pushRecord{body: fmt.Sprintf("%d-%d", via, seq), via: via}
		var path string
		var q url.Values
		switch seq % 3 {
		case 0:
			p.kind, p.targets = "keys", []int{a, b}
			path, q = "/goim/push/keys", url.Values{"operation": {strconv.Itoa(faultOp)}, "keys": {clients[a].key, clients[b].key}}
		case 1:
			p.kind, p.targets = "mids", []int{a, b}
			path, q = "/goim/push/mids", url.Values{"operation": {strconv.Itoa(faultOp)},
				"mids": {fmt.Sprintf("%d,%d", clients[a].mid, clients[b].mid)}}
		default:
			p.kind = "room"
			for i := range clients {
				p.targets = append(p.targets, i)
			}
			path, q = "/goim/push/room", roomQuery(strconv.Itoa(faultOp), faultRoom)
		}
		p.body = p.kind + "-" + p.body
		p.sentAt = time.Now()
		status, r, err := c.try(http.MethodPost, path, q, p.body)
		p.answeredAt = time.Now()
		p.status, p.code, p.message, p.err = status, r.Code, r.Message, err
		if p.ok() {
			decode(t, r, &p.data)
		}
		mu.Lock()
		*out = append(*out, p)
		mu.Unlock()
	}
}

// TestClusterFaults runs 2 logic nodes on one Redis, 2 jobs and 2 comets
// as processes, with clients on both comets and pushes to keys, mids and
// a room through both logic nodes at a steady rate, while it kills
// (SIGKILL) and restarts one logic node, then one job, then one comet.
// Every push answered code 0 must have reached every client it addressed
// that was live (see checkDelivery for the exact windows), and a key or
// mid push's conns must not count a client it did not reach; the killed
// comet's clients connect to the other comet and get the later pushes.
func TestClusterFaults(t *testing.T) {
	faultsRedis(t)
	rc := startRedisCluster(t)
	var stopping atomic.Bool
	const perComet = 4
	var clients []*faultClient
	for i, n := range rc.comets {
		for j := range perComet {
			c := &faultClient{key: fmt.Sprintf("fault-%s-%d", n.id, j), mid: int64(100 + i*perComet + j), rc: rc, stop: &stopping}
			if err := c.dialOn(n); err != nil {
				t.Fatalf("dial %s: %v", c.key, err)
			}
			clients = append(clients, c)
		}
	}
	defer func() {
		stopping.Store(true)
		for _, c := range clients {
			c.close()
		}
	}()

	var (
		mu      sync.Mutex
		records []*pushRecord
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	for via := range rc.logics {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc.pusher(t, via, clients, stop, &records, &mu)
		}()
	}
	start := time.Now()
	events := map[string]time.Time{}
	step := func(name string, f func()) {
		time.Sleep(faultPhase)
		events[name] = time.Now()
		f()
	}
	logic0, cometA := rc.logics[0].logic, rc.comets[0].proc
	step("kill logic-0", func() { logic0.kill(t) })
	step("restart logic-0", func() {
		logic0.start(t)
		logic0.waitLog(t, `msg="logic: started"`, 1)
	})
	// Kill the job the room routes through (the one that took room
	// pushes), so that its pushes have to move.
	var roomJob *proc
	step("kill job", func() {
		roomJob = rc.roomJob(t)
		roomJob.kill(t)
	})
	t.Logf("killed %s, which carried the room", roomJob.name)
	step("restart job", func() {
		roomJob.start(t)
		roomJob.waitLog(t, `msg="job: started"`, 1)
	})
	step("kill comet-a", func() { cometA.kill(t) })
	testwait.For(t, recvTimeout, "comet-a's clients to connect to comet-b", func() bool {
		for _, c := range clients[:perComet] {
			if l := c.liveAt(time.Now()); l == nil || l.comet != "comet-b" {
				return false
			}
		}
		return true
	})
	events["comet-a's clients on comet-b"] = time.Now()
	step("restart comet-a", func() {
		cometA.start(t)
		cometA.waitLog(t, `msg="comet: started"`, 1)
	})
	time.Sleep(faultPhase)
	close(stop)
	wg.Wait()
	t.Logf("%d pushes in %v", len(records), time.Since(start).Round(time.Millisecond))

	checkDelivery(t, clients, records, events["kill job"], events["kill comet-a"], events["comet-a's clients on comet-b"])
	logWindows(t, records, events)
	// Once the jobs' links to the dead comet broke, a room push counts
	// only the live comet, until comet-a is back.
	for _, p := range records {
		if p.kind == "room" && p.ok() && p.sentAt.After(events["kill comet-a"].Add(linkGrace)) &&
			p.answeredAt.Before(events["restart comet-a"]) && p.data.Comets != 1 {
			t.Errorf("%s answered comets %d while comet-a was dead, want 1", p.body, p.data.Comets)
		}
	}
	// A dead job costs no push an error: logic moves its pushes to the
	// other job at once. logic-1 was never killed, so every failure of a
	// push through it names the job at fault.
	for _, p := range records {
		if p.via == 1 && !p.ok() && p.sentAt.After(events["kill job"]) && p.sentAt.Before(events["kill comet-a"]) {
			t.Errorf("%s through logic-1 while the job was down or back: HTTP %d code %d %q %v", p.body, p.status, p.code, p.message, p.err)
		}
	}
}

// checkDelivery waits for the pushes in flight, then checks every push
// answered code 0:
//
//   - Each client it addressed that was live when it was sent (its
//     connection authenticated before the push was sent and still open
//     then) received it, unless that connection ended less than
//     inFlightGrace after the answer: the push may have been queued in
//     a job, or written to the comet's socket, when the comet died (at
//     most once delivery). Clients of the killed comet are so required
//     to get every push answered more than inFlightGrace before the
//     kill, and, once connected to the other comet, every push sent
//     after that. Likewise a push answered less than inFlightGrace
//     before the job kill may have been waiting in that job's room
//     batch or comet queue when it died; from the kill on, pushes go to
//     the other job and are required again.
//   - A key or mid push's conns is at most the number of addressed
//     clients that received it plus those excused above, plus those
//     whose connection had ended less than linkGrace before the push
//     was sent (the job's link to their dead comet may not have broken
//     yet). Pushes sent later must not count the killed comet's clients:
//     that is what the job's link check and logic's handling of
//     ErrCometUnreachable ensure.
//
// It also checks that the killed comet's clients, once on comet-b,
// received pushes.
func checkDelivery(t *testing.T, clients []*faultClient, records []*pushRecord, jobKilled, killed, moved time.Time) {
	t.Helper()
	required := func(p *pushRecord, c *faultClient) bool {
		if !p.answeredAt.Before(jobKilled.Add(-inFlightGrace)) && p.answeredAt.Before(jobKilled) {
			return false // may have been in the killed job's batch or queue
		}
		l := c.liveAt(p.sentAt)
		if l == nil {
			return false
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return l.closedAt.IsZero() || l.closedAt.After(p.answeredAt.Add(inFlightGrace))
	}
	missing := func() []string {
		var out []string
		for _, p := range records {
			if !p.ok() {
				continue
			}
			for _, i := range p.targets {
				if c := clients[i]; required(p, c) && !c.received(p.body) {
					out = append(out, fmt.Sprintf("%s (answered %+v at +%v) did not reach %s",
						p.body, p.data, p.answeredAt.Sub(killed).Round(time.Millisecond), c.key))
				}
			}
		}
		return out
	}
	testwait.ForReason(t, recvTimeout, "every push answered code 0 to reach its live clients", func() (bool, string) {
		m := missing()
		if len(m) == 0 {
			return true, ""
		}
		return false, fmt.Sprintf("%d missing, first: %s", len(m), m[0])
	})
	okCount := 0
	for _, p := range records {
		if !p.ok() {
			continue
		}
		okCount++
		if p.kind == "room" {
			continue
		}
		reached, excused := 0, 0
		for _, i := range p.targets {
			c := clients[i]
			switch {
			case c.received(p.body):
				reached++
			case c.liveAt(p.sentAt) != nil && !required(p, c):
				excused++
			case p.sentAt.Sub(c.lastClosedBefore(p.sentAt)) < linkGrace:
				excused++
			}
		}
		if p.data.Conns > reached+excused {
			t.Errorf("%s answered conns %d at %v (+%v after the comet kill) but reached %d clients (%d excused)",
				p.body, p.data.Conns, p.answeredAt.Format("15:04:05.000"), p.answeredAt.Sub(killed).Round(time.Millisecond), reached, excused)
		}
	}
	if okCount < len(records)/2 {
		t.Errorf("only %d of %d pushes answered code 0", okCount, len(records))
	}
	for _, c := range clients[:len(clients)/2] {
		got := 0
		for _, p := range records {
			if p.ok() && p.sentAt.After(moved) && slices.Contains(p.targets, slices.Index(clients, c)) && c.received(p.body) {
				got++
			}
		}
		if got == 0 {
			t.Errorf("%s got no push after connecting to comet-b", c.key)
		}
	}
}

// logWindows logs, for each fault, the pushes through each logic node
// that did not answer code 0 in the phase after it, with the first and
// last such failure relative to the fault: the windows
// docs/operations.md quotes.
func logWindows(t *testing.T, records []*pushRecord, events map[string]time.Time) {
	t.Helper()
	names := make([]string, 0, len(events))
	for name := range events {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return events[a].Compare(events[b]) })
	for i, name := range names {
		from := events[name]
		to := from.Add(time.Hour)
		if i+1 < len(names) {
			to = events[names[i+1]]
		}
		for via := range 2 {
			total, failed := 0, 0
			var first, last time.Duration
			reasons := map[string]int{}
			for _, p := range records {
				if p.via != via || p.sentAt.Before(from) || !p.sentAt.Before(to) {
					continue
				}
				total++
				if p.ok() {
					continue
				}
				d := p.sentAt.Sub(from)
				if failed == 0 {
					first = d
				}
				last = d
				failed++
				reason := p.message
				if p.err != nil {
					reason = "HTTP error"
				}
				if len(reason) > 60 {
					reason = reason[:60]
				}
				reasons[fmt.Sprintf("%d %s", p.code, reason)]++
			}
			if failed == 0 {
				t.Logf("%-30s via logic-%d: %d pushes, all code 0", name, via, total)
				continue
			}
			t.Logf("%-30s via logic-%d: %d pushes, %d failed, from +%v to +%v: %v", name, via, total, failed,
				first.Round(time.Millisecond), last.Round(time.Millisecond), reasons)
		}
	}
}
