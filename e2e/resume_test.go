package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goimx/goim/client"
)

// seqMsg is a room message as a resuming client sees it.
type seqMsg struct {
	Seq  uint32
	Body string
}

// authResume is the auth reply body of a client that resumes.
type authResume struct {
	RoomID    string `json:"room_id"`
	RoomEpoch uint32 `json:"room_epoch"`
	RoomSeq   uint32 `json:"room_seq"`
	Resumed   bool   `json:"resumed"`
}

// seqClient is a client whose pushes, with their seq, a goroutine reads
// into a channel.
type seqClient struct {
	conn  *client.Conn
	reply authResume
	msgs  chan seqMsg
	done  chan struct{}
}

// dialResume connects to addr over transport with a token for room that
// resumes after seq of epoch, and checks and decodes the auth reply.
func dialResume(t *testing.T, transport, addr, key, room string, epoch, seq uint32) *seqClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), recvTimeout)
	defer cancel()
	tok := token(0, key, room)
	tok.RoomSeq, tok.RoomEpoch = &seq, epoch
	conn, err := client.Dial(ctx, client.Config{Transport: transport, Addr: addr, Token: tok})
	if err != nil {
		t.Fatalf("dial %s %s: %v", transport, addr, err)
	}
	c := &seqClient{conn: conn, msgs: make(chan seqMsg, 8192), done: make(chan struct{})}
	if err := json.Unmarshal(conn.AuthReply(), &c.reply); err != nil {
		conn.Close()
		t.Fatalf("auth reply %q: %v", conn.AuthReply(), err)
	}
	go c.read()
	t.Cleanup(c.close)
	return c
}

// read forwards every message to c.msgs until the connection ends.
func (c *seqClient) read() {
	defer close(c.done)
	defer close(c.msgs)
	for {
		m, err := c.conn.Read()
		if err != nil {
			return
		}
		c.msgs <- seqMsg{Seq: uint32(m.Seq), Body: string(m.Body)}
	}
}

// close closes the connection and waits for the reader.
func (c *seqClient) close() {
	c.conn.Close()
	<-c.done
}

// until returns the messages before the one with body fence.
func (c *seqClient) until(t *testing.T, fence string) []seqMsg {
	t.Helper()
	var got []seqMsg
	timer := time.NewTimer(recvTimeout)
	defer timer.Stop()
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				t.Fatalf("connection ended before %q; got %v", fence, got)
			}
			if m.Body == fence {
				return got
			}
			got = append(got, m)
		case <-timer.C:
			t.Fatalf("no %q within %v; got %d messages", fence, recvTimeout, len(got))
		}
	}
}

// pushRoomRaw pushes body to room without the testing.T, for pushers on
// other goroutines.
func (c *cluster) pushRoomRaw(room, body string) error {
	u := c.httpURL + "/goim/push/room?" + roomQuery("1000", strings.TrimPrefix(room, "live://")).Encode()
	resp, err := c.http.Post(u, "text/plain", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"code":0`) {
		return fmt.Errorf("push %q: HTTP %d %s", body, resp.StatusCode, b)
	}
	return nil
}

// checkRun fails t unless msgs are numbered from first up by one, their
// bodies those of bodyOf.
func checkRun(t *testing.T, msgs []seqMsg, first uint32, bodyOf func(seq uint32) string) {
	t.Helper()
	for i, m := range msgs {
		want := first + uint32(i)
		if m.Seq != want || m.Body != bodyOf(m.Seq) {
			t.Fatalf("message %d = %+v, want seq %d body %q (lost, duplicated or out of order); all: %v", i, m, want, bodyOf(want), msgs)
		}
	}
}

// TestResumeAcrossCometKill: a client in a room on comet-b sees numbered
// messages; comet-b is killed with SIGKILL; messages pushed meanwhile,
// and while it reconnects, reach it on comet-a (over WebSocket) exactly
// once and in order, the missed ones first, then the live ones.
func TestResumeAcrossCometKill(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	const room = "live://resume1"
	x := dialResume(t, "tcp", c.comets[1].tcp, "resume-x", room, 0, 0)
	if x.reply.Resumed || x.reply.RoomEpoch == 0 || x.reply.RoomSeq != 0 || x.reply.RoomID != room {
		t.Fatalf("first auth reply %+v, want an epoch, seq 0, not resumed", x.reply)
	}
	epoch := x.reply.RoomEpoch
	for i := 1; i <= 5; i++ {
		c.pushOK(t, "/goim/push/room", roomQuery("1000", "resume1"), fmt.Sprint("m", i))
	}
	c.pushOK(t, "/goim/push/room", roomQuery("1000", "resume1"), "fence-1")
	got := x.until(t, "fence-1")
	checkRun(t, got, 1, func(s uint32) string { return fmt.Sprint("m", s) })
	if len(got) != 5 {
		t.Fatalf("got %d messages before the kill, want 5", len(got))
	}
	c.comets[1].proc.kill(t)
	<-x.done

	// Pushed while the client is away: m7..m30 (fence-1 is 6).
	for i := 7; i <= 30; i++ {
		c.pushOK(t, "/goim/push/room", roomQuery("1000", "resume1"), fmt.Sprint("m", i))
	}
	// And while it reconnects: m31..m230 from another goroutine. Before
	// m91 it waits for the resume's answer, so that the gap (from m7)
	// stays inside the job's history of 100 however fast pushes go.
	resumed := make(chan struct{})
	var release sync.Once
	t.Cleanup(func() { release.Do(func() { close(resumed) }) })
	var wg sync.WaitGroup
	var pushErr error
	wg.Go(func() {
		for i := 31; i <= 230; i++ {
			if i == 91 {
				<-resumed
			}
			if err := c.pushRoomRaw(room, fmt.Sprint("m", i)); err != nil {
				pushErr = err
				return
			}
		}
	})
	time.Sleep(20 * time.Millisecond)
	y := dialResume(t, "ws", c.comets[0].ws, "resume-x", room, epoch, 6)
	release.Do(func() { close(resumed) })
	if !y.reply.Resumed || y.reply.RoomEpoch != epoch || y.reply.RoomSeq < 30 {
		t.Fatalf("resume auth reply %+v, want resumed, epoch %d, seq >= 30", y.reply, epoch)
	}
	wg.Wait()
	if pushErr != nil {
		t.Fatal(pushErr)
	}
	c.pushOK(t, "/goim/push/room", roomQuery("1000", "resume1"), "fence-2")
	got = y.until(t, "fence-2")
	checkRun(t, got, 7, func(s uint32) string { return fmt.Sprint("m", s) })
	if len(got) != 224 {
		t.Fatalf("got %d messages after resuming, want 224 (m7..m230)", len(got))
	}
	t.Logf("history covered up to %d of 230; the rest came live", y.reply.RoomSeq)
}

// TestResumeRefused: a client whose gap the history no longer covers
// (more than -history-size messages), or that names another epoch, is
// told resumed false with the room's epoch and last number, and then
// gets only the messages after that number.
func TestResumeRefused(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	const room = "live://resume2"
	x := dialResume(t, "tcp", c.comets[0].tcp, "gap-x", room, 0, 0)
	epoch := x.reply.RoomEpoch
	x.close()
	const n = 105 // the job keeps 100
	for i := 1; i <= n; i++ {
		c.pushOK(t, "/goim/push/room", roomQuery("1000", "resume2"), fmt.Sprint("m", i))
	}
	// Each case pushes a fence, numbered after the messages and the
	// fences before it.
	bodyOf := func(seq uint32) string {
		if seq <= n {
			return fmt.Sprint("m", seq)
		}
		return fmt.Sprint("fence-", seq-n-1)
	}
	tests := []struct {
		name    string
		epoch   uint32
		seq     uint32
		resumed bool
	}{
		{"gap too long", epoch, 2, false},
		{"other epoch", epoch + 1, n + 1, false},
		{"covered", epoch, n + 2 - 50, true},
	}
	for i, tt := range tests {
		last := uint32(n + i) // the messages and the fences so far
		y := dialResume(t, "tcp", c.comets[1].tcp, fmt.Sprint("gap-", i), room, tt.epoch, tt.seq)
		want := authResume{RoomID: room, RoomEpoch: epoch, RoomSeq: last, Resumed: tt.resumed}
		if y.reply != want {
			t.Errorf("%s: auth reply %+v, want %+v", tt.name, y.reply, want)
		}
		fence := fmt.Sprint("fence-", i)
		c.pushOK(t, "/goim/push/room", roomQuery("1000", "resume2"), fence)
		got := y.until(t, fence)
		if tt.resumed {
			checkRun(t, got, tt.seq+1, bodyOf)
			if len(got) != int(last-tt.seq) {
				t.Errorf("%s: got %d messages, want %d", tt.name, len(got), last-tt.seq)
			}
		} else if len(got) != 0 {
			t.Errorf("%s: got %d messages before the fence, want none: %v", tt.name, len(got), got)
		}
		y.close()
	}
}
