package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/client"
)

// startPipeGroup returns a Group of members ServeMember loops in this
// process, each holding a fleet of n connections of w (keys and users
// apart) to addr; it is closed at the end of the test.
func startPipeGroup(t *testing.T, addr string, members, n int, w Workload) *Group {
	t.Helper()
	var ins []io.WriteCloser
	var outs []io.Reader
	var waits []func() error
	for k := range members {
		mw := w
		mw.KeyPrefix = fmt.Sprintf("g%d", k)
		mw.MidBase = int64(1 + k*n)
		mw = mw.withDefaults()
		f := NewFleet(FleetConfig{Addr: addr, N: n, Token: mw.Token, Op: mw.Op, Dialers: 4, Reader: ReaderEpoll})
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		done := make(chan error, 1)
		go func() {
			err := ServeMember(context.Background(), f, inR, outW)
			f.Close()
			outW.Close()
			done <- err
		}()
		ins, outs = append(ins, inW), append(outs, outR)
		waits = append(waits, func() error { return <-done })
	}
	g := newPipeGroup(ins, outs, waits)
	t.Cleanup(g.Close)
	return g
}

// TestGroupRun runs room and broadcast pushes to a Group of three
// members: every push must be counted once by the member holding each
// connection, and merged into the Group's round.
func TestGroupRun(t *testing.T) {
	c := startTestCluster(t, ClusterConfig{})
	const members, n = 3, 20
	w := Workload{Kind: KindRoom}
	g := startPipeGroup(t, c.TCPAddr, members, n, w)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := g.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if g.Connected() != members*n || g.Len() != members {
		t.Fatalf("connected %d of %d members, want %d", g.Connected(), g.Len(), members*n)
	}
	if err := Warmup(ctx, g, w, c.HTTPAddr, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{KindRoom, KindAll} {
		w.Kind = kind
		res, err := Run(ctx, g, w, RunConfig{HTTPAddr: c.HTTPAddr, Load: LoadConfig{Count: 10, Concurrency: 2}, Drain: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if !res.AllDelivered() || res.Expected != 10*members*n || res.Conns != members*n || res.Latency.P99 <= 0 {
			t.Errorf("%s: %+v", kind, res)
		}
	}
	if g.Lost() != 0 {
		t.Errorf("lost %d connections", g.Lost())
	}
}

// TestGroupConnectError reports a member that cannot connect.
func TestGroupConnectError(t *testing.T) {
	g := startPipeGroup(t, "127.0.0.1:1", 2, 1, Workload{})
	err := g.Connect(context.Background())
	if !errors.Is(err, ErrMember) || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("Connect: %v, want a member's connect error", err)
	}
}

// TestServeMemberCommands checks the member side of the protocol.
func TestServeMemberCommands(t *testing.T) {
	tests := []struct {
		in      string
		answers int
		wantErr bool
	}{
		{"", 0, false},
		{"snap\n", 1, false},
		{"begin 7\nsnap\n", 2, false},
		{"connect\nconnect\nsnap\n", 3, false},
		{"begin 0\n", 0, true},
		{"begin x\n", 0, true},
		{"begin 4294967296\n", 0, true},
		{"jump\n", 0, true},
	}
	for _, tt := range tests {
		f := NewFleet(FleetConfig{Addr: "127.0.0.1:1", Transport: client.TransportTCP})
		var out strings.Builder
		err := ServeMember(context.Background(), f, strings.NewReader(tt.in), &out)
		f.Close()
		if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrMember)) {
			t.Errorf("%q: %v, want error %v", tt.in, err, tt.wantErr)
		}
		if got := strings.Count(out.String(), "\n"); got != tt.answers {
			t.Errorf("%q: %d answers, want %d: %s", tt.in, got, tt.answers, out.String())
		}
		for _, line := range strings.SplitAfter(out.String(), "\n") {
			if line == "" {
				continue
			}
			if _, err := parseMemberState([]byte(line)); err != nil {
				t.Errorf("%q: answer %q: %v", tt.in, line, err)
			}
		}
	}
}

func TestParseMemberState(t *testing.T) {
	tests := []struct {
		line    string
		wantErr bool
		wantN   uint64
	}{
		{`{"conns":3,"done":true,"round":2,"sum_ns":30,"max_ns":20,"buckets":[[1,1],[2,1],[20,1]]}`, false, 3},
		{`{"conns":0}`, false, 0},
		{`{"conns":-1}`, true, 0},
		{`{"buckets":[[1152,1]]}`, true, 0},
		{`not json`, true, 0},
		{``, true, 0},
	}
	for _, tt := range tests {
		st, err := parseMemberState([]byte(tt.line))
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: %v, want error %v", tt.line, err, tt.wantErr)
		}
		if err != nil {
			continue
		}
		var s HistSnapshot
		st.snapshotInto(&s)
		if s.N != tt.wantN {
			t.Errorf("%q: %d values, want %d", tt.line, s.N, tt.wantN)
		}
	}
}

// FuzzParseMemberState checks that no answer makes the parser or the
// snapshot panic.
func FuzzParseMemberState(f *testing.F) {
	f.Add([]byte(`{"conns":3,"done":true,"round":2,"sum_ns":30,"max_ns":20,"buckets":[[1,1],[2,1],[20,1]]}`))
	f.Add([]byte(`{"conns":1,"err":"refused","lost":1,"stale":2,"bad":3}`))
	f.Add([]byte(`{"buckets":[[1151,18446744073709551615]]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		st, err := parseMemberState(line)
		if err != nil {
			return
		}
		var s HistSnapshot
		st.snapshotInto(&s)
		_ = s.Quantile(0.99)
	})
}

func TestHistogramMerge(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for i := range 100 {
		a.Record(i, time.Duration(i)*time.Millisecond)
	}
	b.Merge(a.Snapshot())
	b.Merge(a.Snapshot())
	sa, sb := a.Snapshot(), b.Snapshot()
	if sb.N != 2*sa.N || sb.Sum != 2*sa.Sum || sb.Max != sa.Max || sb.Quantile(0.5) != sa.Quantile(0.5) {
		t.Errorf("merged twice: n %d sum %v max %v p50 %v; once: n %d sum %v max %v p50 %v",
			sb.N, sb.Sum, sb.Max, sb.Quantile(0.5), sa.N, sa.Sum, sa.Max, sa.Quantile(0.5))
	}
}
