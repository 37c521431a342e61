package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A Group drives its members over their standard input and output, one
// line per command and one JSON line (a memberState) per answer:
//
//	connect   start opening the connections (once), then answer the state
//	snap      answer the member's state
//	begin ID  start round ID, then answer the state
//
// The end of its input closes a member's connections and ends it.
const (
	cmdConnect = "connect"
	cmdSnap    = "snap"
	cmdBegin   = "begin"
)

// Timings of a Group.
const (
	// groupPoll is how often a Group reads its members' counts while a
	// round runs; latencies are measured by the members from the stamps,
	// so this bounds only how late the Group sees a delivery.
	groupPoll = 50 * time.Millisecond
	// groupConnectPoll is how often Connect reads the members' progress.
	groupConnectPoll = 200 * time.Millisecond
	// memberStopWait is how long Close waits for a member to end after
	// its input closed, before killing it.
	memberStopWait = 30 * time.Second
	// maxMemberLine bounds one answer: every bucket of a histogram fits.
	maxMemberLine = 64 << 10
)

// ErrMember reports a member of a Group that failed, ended, or answered
// what the protocol does not allow.
var ErrMember = errors.New("bench: group member")

// memberState is a member's answer to every command: its connections,
// and the latencies counted in its current round.
type memberState struct {
	Conns int    `json:"conns"`
	Done  bool   `json:"done"`          // its Connect returned
	Err   string `json:"err,omitempty"` // what Connect returned
	Lost  uint64 `json:"lost"`
	Stale uint64 `json:"stale"`
	Bad   uint64 `json:"bad"`
	Round uint32 `json:"round"` // current round; 0 before the first
	SumNS int64  `json:"sum_ns"`
	MaxNS int64  `json:"max_ns"`
	// Buckets are the round's non-empty histogram buckets, as
	// [bucket index, count] pairs.
	Buckets [][2]uint64 `json:"buckets,omitempty"`
}

// parseMemberState decodes one answer, refusing bucket indexes outside
// the histogram.
func parseMemberState(line []byte) (memberState, error) {
	var st memberState
	if err := json.Unmarshal(line, &st); err != nil {
		return st, fmt.Errorf("%w: answer %.40q: %v", ErrMember, line, err)
	}
	if st.Conns < 0 {
		return st, fmt.Errorf("%w: answer with %d connections", ErrMember, st.Conns)
	}
	for _, b := range st.Buckets {
		if b[0] >= histBuckets {
			return st, fmt.Errorf("%w: answer with bucket %d of %d", ErrMember, b[0], histBuckets)
		}
	}
	return st, nil
}

// snapshotInto overwrites s with the latencies of st.
func (st *memberState) snapshotInto(s *HistSnapshot) {
	*s = HistSnapshot{Sum: time.Duration(st.SumNS), Max: time.Duration(st.MaxNS)}
	for _, b := range st.Buckets {
		s.Counts[b[0]] += b[1]
		s.N += b[1]
	}
}

// ServeMember is the main loop of a Group's member process: it answers
// the commands read from in on out, connecting f in the background when
// told to, until in ends (it returns nil), ctx ends, or a command is not
// understood. It waits for Connect to return before it returns; the
// caller closes f. The goroutine reading in ends when in does.
func ServeMember(ctx context.Context, f *Fleet, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	mc := &memberConnect{f: f}
	defer mc.wait()
	defer cancel() // before the wait: it ends a Connect under way
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	var snap HistSnapshot
	bw := bufio.NewWriter(out)
	enc := json.NewEncoder(bw)
	for {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return ctx.Err()
		case line, ok = <-lines:
		}
		if !ok {
			return nil
		}
		if err := memberCommand(ctx, mc, line); err != nil {
			return err
		}
		st := mc.state()
		fillMemberState(&st, f, &snap)
		if err := enc.Encode(&st); err != nil {
			return fmt.Errorf("bench: member answer: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("bench: member answer: %w", err)
		}
	}
}

// memberConnect is the Connect of a member's fleet, started by the
// connect command and run in the background.
type memberConnect struct {
	f       *Fleet
	mu      sync.Mutex    // guards the fields below
	started bool          // the connect command came
	done    bool          // Connect returned
	err     error         // what it returned
	ended   chan struct{} // closed when Connect returned; nil until started
}

// start starts Connect unless it was started already.
func (mc *memberConnect) start(ctx context.Context) {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if mc.started {
		return
	}
	mc.started, mc.ended = true, make(chan struct{})
	go func() {
		defer close(mc.ended)
		err := mc.f.Connect(ctx)
		mc.mu.Lock()
		mc.done, mc.err = true, err
		mc.mu.Unlock()
	}()
}

// state returns a memberState holding the progress of Connect.
func (mc *memberConnect) state() memberState {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	st := memberState{Done: mc.done}
	if mc.err != nil {
		st.Err = mc.err.Error()
	}
	return st
}

// wait waits for a started Connect to return.
func (mc *memberConnect) wait() {
	mc.mu.Lock()
	ended := mc.ended
	mc.mu.Unlock()
	if ended != nil {
		<-ended
	}
}

// memberCommand carries out one command line of the member protocol.
func memberCommand(ctx context.Context, mc *memberConnect, line string) error {
	verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	switch verb {
	case cmdSnap:
		return nil
	case cmdConnect:
		mc.start(ctx)
		return nil
	case cmdBegin:
		id, err := strconv.ParseUint(arg, 10, 32)
		if err != nil || id == 0 {
			return fmt.Errorf("%w: round %q", ErrMember, arg)
		}
		mc.f.beginRound(uint32(id))
		return nil
	}
	return fmt.Errorf("%w: command %q", ErrMember, line)
}

// fillMemberState sets st's counts from f, using snap as scratch.
func fillMemberState(st *memberState, f *Fleet, snap *HistSnapshot) {
	st.Conns, st.Lost, st.Stale, st.Bad = f.Connected(), f.Lost(), f.Stale(), f.Bad()
	r := f.cur.Load()
	if r == nil {
		return
	}
	r.Hist.SnapshotInto(snap)
	st.Round, st.SumNS, st.MaxNS = r.ID, int64(snap.Sum), int64(snap.Max)
	for i, n := range snap.Counts {
		if n != 0 {
			st.Buckets = append(st.Buckets, [2]uint64{uint64(i), n})
		}
	}
}

// groupMember is one member process of a Group (or, in tests, a pipe to
// ServeMember).
type groupMember struct {
	idx  int
	in   io.WriteCloser
	out  *bufio.Reader
	wait func() error // waits for the member to end
	kill func()       // ends it now
	pid  int          // 0 when not a process
	mu   sync.Mutex   // serializes a command and its answer
	prev HistSnapshot // counts of the current round merged so far; guarded by Group.mu
}

// ask sends one command and reads its answer.
func (m *groupMember) ask(cmd string) (memberState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := io.WriteString(m.in, cmd+"\n"); err != nil {
		return memberState{}, fmt.Errorf("%w %d: %s: %v", ErrMember, m.idx, cmd, err)
	}
	line, err := m.out.ReadSlice('\n')
	if err != nil {
		return memberState{}, fmt.Errorf("%w %d: answer to %s: %v", ErrMember, m.idx, cmd, err)
	}
	st, err := parseMemberState(line)
	if err != nil {
		return st, fmt.Errorf("member %d: %w", m.idx, err)
	}
	return st, nil
}

// Group is a set of member processes, each holding a Fleet and serving
// ServeMember on its standard input and output (goim-bench -scenario
// member): Receivers for more connections than one process may open, all
// counted in one round. Its rounds are numbered by the Group; latencies
// are measured by the members, from the stamps, and merged. StartRound,
// Collect and Close are called from one goroutine.
type Group struct {
	members []*groupMember
	rounds  atomic.Uint32
	conns   atomic.Int64
	lost    atomic.Uint64
	stale   atomic.Uint64

	mu       sync.Mutex    // guards cur, pollErr, diff and the members' prev
	cur      *Round        // the round being counted; nil before the first
	pollErr  error         // first error of the poll loop of cur
	diff     HistSnapshot  // scratch of merge
	stopPoll chan struct{} // closed to end the poll loop; nil when none runs
	pollDone chan struct{} // closed when the poll loop ended
}

// StartGroup starts the member processes cmds (their Stdin and Stdout
// are the Group's; set Stderr before) and returns the Group; Connect
// waits until they connected.
func StartGroup(cmds []*exec.Cmd) (*Group, error) {
	g := &Group{}
	for i, cmd := range cmds {
		in, err := cmd.StdinPipe()
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("%w %d: %v", ErrMember, i, err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("%w %d: %v", ErrMember, i, err)
		}
		if err := cmd.Start(); err != nil {
			g.Close()
			return nil, fmt.Errorf("%w %d: start: %v", ErrMember, i, err)
		}
		g.members = append(g.members, &groupMember{
			idx:  i,
			in:   in,
			out:  bufio.NewReaderSize(out, maxMemberLine),
			wait: cmd.Wait,
			kill: func() { _ = cmd.Process.Kill() },
			pid:  cmd.Process.Pid,
		})
	}
	return g, nil
}

// newPipeGroup returns a Group whose members are pipes to ServeMember
// loops: member i reads ins[i]'s other end and writes outs[i]; Close
// calls waits[i] after closing ins[i].
func newPipeGroup(ins []io.WriteCloser, outs []io.Reader, waits []func() error) *Group {
	g := &Group{}
	for i := range ins {
		g.members = append(g.members, &groupMember{
			idx:  i,
			in:   ins[i],
			out:  bufio.NewReaderSize(outs[i], maxMemberLine),
			wait: waits[i],
			kill: func() {},
		})
	}
	return g
}

// Pids returns the process ids of the members.
func (g *Group) Pids() []int {
	var pids []int
	for _, m := range g.members {
		if m.pid != 0 {
			pids = append(pids, m.pid)
		}
	}
	return pids
}

// Len returns the number of members.
func (g *Group) Len() int { return len(g.members) }

// askAll sends cmd to every member at once and returns their answers.
func (g *Group) askAll(cmd string) ([]memberState, error) {
	states := make([]memberState, len(g.members))
	errs := make([]error, len(g.members))
	var wg sync.WaitGroup
	for i, m := range g.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			states[i], errs[i] = m.ask(cmd)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var conns int64
	var lost, stale uint64
	for _, st := range states {
		conns += int64(st.Conns)
		lost += st.Lost
		stale += st.Stale
	}
	g.conns.Store(conns)
	g.lost.Store(lost)
	g.stale.Store(stale)
	return states, nil
}

// Connect tells every member to connect and waits until they all have,
// polling their progress; it returns the first member's failure.
func (g *Group) Connect(ctx context.Context) error {
	t := time.NewTicker(groupConnectPoll)
	defer t.Stop()
	cmd := cmdConnect
	for {
		states, err := g.askAll(cmd)
		cmd = cmdSnap
		if err != nil {
			return err
		}
		done := 0
		for i, st := range states {
			if st.Err != "" {
				return fmt.Errorf("%w %d: connect: %s", ErrMember, i, st.Err)
			}
			if st.Done {
				done++
			}
		}
		if done == len(states) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Connected returns how many connections the members had open at the
// last answer.
func (g *Group) Connected() int { return int(g.conns.Load()) }

// Lost returns how many connections the members had lost at the last
// answer.
func (g *Group) Lost() uint64 { return g.lost.Load() }

// Stale returns how many stale messages the members had counted at the
// last answer.
func (g *Group) Stale() uint64 { return g.stale.Load() }

// StartRound begins the next round in every member and starts reading
// their counts into it every groupPoll.
func (g *Group) StartRound() (*Round, error) {
	g.stopPolling()
	id := g.rounds.Add(1)
	states, err := g.askAll(cmdBegin + " " + strconv.FormatUint(uint64(id), 10))
	if err != nil {
		return nil, err
	}
	r := &Round{ID: id, Hist: NewHistogram(), Start: time.Now()}
	g.mu.Lock()
	g.cur, g.pollErr = r, nil
	for _, m := range g.members {
		m.prev = HistSnapshot{}
	}
	g.mu.Unlock()
	g.merge(r, states)
	g.stopPoll, g.pollDone = make(chan struct{}), make(chan struct{})
	go g.poll(r, g.stopPoll, g.pollDone)
	return r, nil
}

// poll merges the members' counts into r every groupPoll until stop is
// closed.
func (g *Group) poll(r *Round, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(groupPoll)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if err := g.update(r); err != nil {
			g.mu.Lock()
			if g.pollErr == nil {
				g.pollErr = err
			}
			g.mu.Unlock()
			return
		}
	}
}

// stopPolling ends the poll loop, if one runs, and waits for it.
func (g *Group) stopPolling() {
	if g.stopPoll == nil {
		return
	}
	close(g.stopPoll)
	<-g.pollDone
	g.stopPoll, g.pollDone = nil, nil
}

// update reads every member's counts and merges them into r.
func (g *Group) update(r *Round) error {
	states, err := g.askAll(cmdSnap)
	if err != nil {
		return err
	}
	g.merge(r, states)
	return nil
}

// merge adds to r what each member counted in r since the last merge.
func (g *Group) merge(r *Round, states []memberState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cur != r {
		return
	}
	for i, m := range g.members {
		st := &states[i]
		if st.Round != r.ID {
			continue
		}
		st.snapshotInto(&g.diff)
		for b := range g.diff.Counts {
			now := g.diff.Counts[b]
			g.diff.Counts[b] = now - min(now, m.prev.Counts[b])
			m.prev.Counts[b] = now
		}
		sum := g.diff.Sum
		g.diff.Sum -= min(sum, m.prev.Sum)
		m.prev.Sum = sum
		n := g.diff.N
		g.diff.N -= min(n, m.prev.N)
		m.prev.N = n
		r.Hist.Merge(&g.diff)
	}
}

// Collect stops reading counts into r in the background and reads them
// once more, so that r holds everything the members counted. With r nil
// it reads only the members' connection counts.
func (g *Group) Collect(r *Round) error {
	if r == nil {
		_, err := g.askAll(cmdSnap)
		return err
	}
	g.stopPolling()
	g.mu.Lock()
	err := g.pollErr
	g.mu.Unlock()
	if err != nil {
		return err
	}
	return g.update(r)
}

// Close ends every member: it closes their inputs, which closes their
// connections, and waits for them, killing those still running after
// memberStopWait.
func (g *Group) Close() {
	g.stopPolling()
	var wg sync.WaitGroup
	for _, m := range g.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.in.Close()
			ended := make(chan struct{})
			go func() {
				defer close(ended)
				_ = m.wait()
			}()
			t := time.NewTimer(memberStopWait)
			defer t.Stop()
			select {
			case <-ended:
			case <-t.C:
				m.kill()
				<-ended
			}
		}()
	}
	wg.Wait()
}
