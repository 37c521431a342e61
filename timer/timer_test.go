package timer

import (
	"math"
	"testing"
	"testing/synctest"
	"time"
)

const ms = time.Millisecond

// step is one operation of a script: at time at (since the script started)
// do op on the entry called name.
type step struct {
	at   time.Duration
	op   string // "add", "reset" or "del"
	name string
	d    time.Duration // for add and reset
	ok   bool          // wanted result of reset and del
}

// runScript runs steps against a new Timer in a synctest bubble, waits until
// every entry that can fire did, and checks the firings against want.
func runScript(t *testing.T, steps []step, want []firing) {
	synctest.Test(t, func(t *testing.T) {
		tm := New(2)
		defer tm.Stop()
		r := newRecorder()
		handles := map[string]Handle{}
		for i, s := range steps {
			time.Sleep(s.at - time.Since(r.start))
			synctest.Wait()
			switch s.op {
			case "add":
				handles[s.name] = tm.Add(s.d, r.fn(s.name))
			case "reset":
				if got := tm.Reset(handles[s.name], s.d); got != s.ok {
					t.Fatalf("step %d: Reset(%s) = %v, want %v", i, s.name, got, s.ok)
				}
			case "del":
				if got := tm.Del(handles[s.name]); got != s.ok {
					t.Fatalf("step %d: Del(%s) = %v, want %v", i, s.name, got, s.ok)
				}
			default:
				t.Fatalf("step %d: unknown op %q", i, s.op)
			}
			synctest.Wait()
			checkHeap(t, tm)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		checkFirings(t, r.get(), want)
	})
}

func TestFireOrder(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		want  []firing
	}{
		{
			name:  "ascending",
			steps: []step{{op: "add", name: "a", d: 10 * ms}, {op: "add", name: "b", d: 20 * ms}, {op: "add", name: "c", d: 30 * ms}},
			want:  []firing{{"a", 10 * ms}, {"b", 20 * ms}, {"c", 30 * ms}},
		},
		{
			name:  "descending",
			steps: []step{{op: "add", name: "c", d: 30 * ms}, {op: "add", name: "b", d: 20 * ms}, {op: "add", name: "a", d: 10 * ms}},
			want:  []firing{{"a", 10 * ms}, {"b", 20 * ms}, {"c", 30 * ms}},
		},
		{
			name:  "equal deadlines fire in add order",
			steps: []step{{op: "add", name: "a", d: 10 * ms}, {op: "add", name: "b", d: 10 * ms}, {op: "add", name: "c", d: 10 * ms}},
			want:  []firing{{"a", 10 * ms}, {"b", 10 * ms}, {"c", 10 * ms}},
		},
		{
			name:  "zero and negative fire at once",
			steps: []step{{op: "add", name: "c", d: ms}, {op: "add", name: "a", d: 0}, {op: "add", name: "b", d: -time.Second}},
			want:  []firing{{"a", 0}, {"b", 0}, {"c", ms}},
		},
		{
			name: "added later, fires earlier",
			steps: []step{
				{op: "add", name: "a", d: 50 * ms},
				{at: 10 * ms, op: "add", name: "b", d: 10 * ms},
				{at: 15 * ms, op: "add", name: "c", d: 50 * ms},
			},
			want: []firing{{"b", 20 * ms}, {"a", 50 * ms}, {"c", 65 * ms}},
		},
		{
			name:  "overflowing duration never fires",
			steps: []step{{op: "add", name: "a", d: 10 * ms}, {op: "add", name: "b", d: math.MaxInt64}},
			want:  []firing{{"a", 10 * ms}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runScript(t, tc.steps, tc.want) })
	}
}

func TestReset(t *testing.T) {
	ab := []step{{op: "add", name: "a", d: 10 * ms}, {op: "add", name: "b", d: 20 * ms}}
	tests := []struct {
		name  string
		steps []step
		want  []firing
	}{
		{
			name:  "earlier",
			steps: append(ab, step{op: "reset", name: "b", d: 5 * ms, ok: true}),
			want:  []firing{{"b", 5 * ms}, {"a", 10 * ms}},
		},
		{
			name:  "earliest later",
			steps: append(ab, step{op: "reset", name: "a", d: 30 * ms, ok: true}),
			want:  []firing{{"b", 20 * ms}, {"a", 30 * ms}},
		},
		{
			name:  "later then earlier",
			steps: append(ab, step{op: "reset", name: "a", d: 30 * ms, ok: true}, step{op: "reset", name: "a", d: 15 * ms, ok: true}),
			want:  []firing{{"a", 15 * ms}, {"b", 20 * ms}},
		},
		{
			name:  "to zero",
			steps: append(ab, step{op: "reset", name: "b", d: 0, ok: true}),
			want:  []firing{{"b", 0}, {"a", 10 * ms}},
		},
		{
			name:  "same deadline goes after its equals",
			steps: append(ab, step{op: "add", name: "c", d: 10 * ms}, step{op: "reset", name: "a", d: 10 * ms, ok: true}),
			want:  []firing{{"c", 10 * ms}, {"a", 10 * ms}, {"b", 20 * ms}},
		},
		{
			name: "heartbeats keep pushing it back",
			steps: []step{
				{op: "add", name: "a", d: 10 * ms},
				{at: 5 * ms, op: "reset", name: "a", d: 10 * ms, ok: true},
				{at: 10 * ms, op: "reset", name: "a", d: 10 * ms, ok: true},
				{at: 19 * ms, op: "reset", name: "a", d: 10 * ms, ok: true},
			},
			want: []firing{{"a", 29 * ms}},
		},
		{
			name:  "after firing",
			steps: append(ab, step{at: 15 * ms, op: "reset", name: "a", d: 10 * ms, ok: false}),
			want:  []firing{{"a", 10 * ms}, {"b", 20 * ms}},
		},
		{
			name:  "after del",
			steps: append(ab, step{op: "del", name: "a", ok: true}, step{op: "reset", name: "a", d: ms, ok: false}),
			want:  []firing{{"b", 20 * ms}},
		},
		{
			name:  "zero handle",
			steps: append(ab, step{op: "reset", name: "none", d: ms, ok: false}),
			want:  []firing{{"a", 10 * ms}, {"b", 20 * ms}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runScript(t, tc.steps, tc.want) })
	}
}

func TestDel(t *testing.T) {
	abc := []step{{op: "add", name: "a", d: 10 * ms}, {op: "add", name: "b", d: 20 * ms}, {op: "add", name: "c", d: 30 * ms}}
	tests := []struct {
		name  string
		steps []step
		want  []firing
	}{
		{
			name:  "middle",
			steps: append(abc, step{op: "del", name: "b", ok: true}),
			want:  []firing{{"a", 10 * ms}, {"c", 30 * ms}},
		},
		{
			name:  "earliest",
			steps: append(abc, step{op: "del", name: "a", ok: true}),
			want:  []firing{{"b", 20 * ms}, {"c", 30 * ms}},
		},
		{
			name:  "last",
			steps: append(abc, step{op: "del", name: "c", ok: true}),
			want:  []firing{{"a", 10 * ms}, {"b", 20 * ms}},
		},
		{
			name:  "all",
			steps: append(abc, step{op: "del", name: "b", ok: true}, step{op: "del", name: "a", ok: true}, step{op: "del", name: "c", ok: true}),
			want:  nil,
		},
		{
			name:  "twice",
			steps: append(abc, step{op: "del", name: "b", ok: true}, step{op: "del", name: "b", ok: false}),
			want:  []firing{{"a", 10 * ms}, {"c", 30 * ms}},
		},
		{
			name:  "after firing",
			steps: append(abc, step{at: 15 * ms, op: "del", name: "a", ok: false}, step{op: "del", name: "b", ok: true}),
			want:  []firing{{"a", 10 * ms}, {"c", 30 * ms}},
		},
		{
			name:  "zero handle",
			steps: append(abc, step{op: "del", name: "none", ok: false}),
			want:  []firing{{"a", 10 * ms}, {"b", 20 * ms}, {"c", 30 * ms}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runScript(t, tc.steps, tc.want) })
	}
}

func TestStaleHandleAfterReuse(t *testing.T) {
	tests := []struct {
		name string
		// retire makes h stale: it fires or is deleted.
		retire func(t *testing.T, tm *Timer, h Handle)
		want   []firing
	}{
		{
			name: "after expiry",
			retire: func(t *testing.T, tm *Timer, h Handle) {
				time.Sleep(10 * ms)
				synctest.Wait()
			},
			want: []firing{{"old", 10 * ms}, {"new", 30 * ms}},
		},
		{
			name: "after del",
			retire: func(t *testing.T, tm *Timer, h Handle) {
				if !tm.Del(h) {
					t.Fatal("Del of a pending entry = false")
				}
			},
			want: []firing{{"new", 20 * ms}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tm := New(1)
				defer tm.Stop()
				r := newRecorder()
				old := tm.Add(10*ms, r.fn("old"))
				tc.retire(t, tm, old)
				h := tm.Add(20*ms, r.fn("new"))
				if h.e != old.e {
					t.Fatal("entry was not reused from the free list")
				}
				if tm.Reset(old, ms) {
					t.Error("Reset with a stale handle = true")
				}
				if tm.Del(old) {
					t.Error("Del with a stale handle = true")
				}
				if tm.Len() != 1 {
					t.Errorf("Len = %d, want 1", tm.Len())
				}
				time.Sleep(time.Hour)
				synctest.Wait()
				checkFirings(t, r.get(), tc.want)
			})
		})
	}
}

func TestHandleFromOtherTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t1, t2 := New(1), New(1)
		defer t1.Stop()
		defer t2.Stop()
		r := newRecorder()
		h1 := t1.Add(10*ms, r.fn("a"))
		t2.Add(20*ms, r.fn("b"))
		if t2.Reset(h1, ms) || t2.Del(h1) {
			t.Error("t2 accepted a handle of t1")
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		checkFirings(t, r.get(), []firing{{"a", 10 * ms}, {"b", 20 * ms}})
	})
}

func TestLen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tm := New(0)
		defer tm.Stop()
		r := newRecorder()
		for i, d := range []time.Duration{10 * ms, 20 * ms, 30 * ms} {
			tm.Add(d, r.fn("x"))
			if got := tm.Len(); got != i+1 {
				t.Fatalf("Len = %d, want %d", got, i+1)
			}
		}
		time.Sleep(25 * ms)
		synctest.Wait()
		if got := tm.Len(); got != 1 {
			t.Fatalf("Len after two fired = %d, want 1", got)
		}
	})
}

func TestAddNilFuncPanics(t *testing.T) {
	tm := New(0)
	defer tm.Stop()
	defer func() {
		if recover() == nil {
			t.Error("Add(nil) did not panic")
		}
	}()
	tm.Add(ms, nil)
}
