package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/goimx/goim/internal/chromium"
)

// TestBrowserResume runs goim.js with resume: true in a real browser
// against the all-in-one binary: when the server closes the page's
// connection (another client takes its key) and room messages are pushed
// while the page is away, the page reconnects, resumes its room (the auth
// reply says resumed: true, under the epoch of the first connection) and
// has every room message exactly once, in order, with its room number.
func TestBrowserResume(t *testing.T) {
	t.Parallel()
	br := chromium.ForTest(t)
	c := startBrowserCluster(t)
	b := openHarness(t, br, serveBrowserFiles(t, c.httpURL))

	const key, room = "resume-key", "resume"
	tok, _ := json.Marshal(token(9, key, "live://"+room, browserOp))
	b.eval(t, fmt.Sprintf(`harness.start({nodesURL: '/goim/nodes/weighted?platform=test', resume: true, token: %s})`, tok), nil)
	b.wait(t, 15*time.Second, "harness.count('open') === 1 && harness.auths.length === 1")

	type authReply struct {
		RoomID    string `json:"room_id"`
		RoomEpoch uint32 `json:"room_epoch"`
		RoomSeq   uint32 `json:"room_seq"`
		Resumed   bool   `json:"resumed"`
	}
	var auths []*authReply
	b.eval(t, "harness.auths", &auths)
	if auths[0] == nil || auths[0].RoomID != "live://"+room || auths[0].RoomEpoch == 0 || auths[0].RoomSeq != 0 || auths[0].Resumed {
		t.Fatalf("first auth reply %+v, want room live://%s, an epoch, room_seq 0, resumed false", auths[0], room)
	}
	epoch := auths[0].RoomEpoch

	op := strconv.Itoa(browserOp)
	rooms := url.Values{"operation": {op}, "type": {"live"}, "room": {room}}
	push := func(bodies ...string) {
		t.Helper()
		for _, body := range bodies {
			c.pushOK(t, "/goim/push/room", rooms, body)
		}
	}
	push("m1", "m2")
	b.wait(t, 10*time.Second, "harness.messages.length >= 2")
	var seq int
	b.eval(t, "harness.client.roomSeq", &seq)
	if seq != 2 {
		t.Errorf("roomSeq %d after two room messages, want 2", seq)
	}

	// Another client takes the page's key: the server closes the page's
	// connection; the page waits 1s ± 20% before it reconnects, and the
	// messages pushed meanwhile are missed by its connection.
	other := dialClient(t, "key-thief", "ws", c.comets[0].ws, token(10, key, "", browserOp))
	b.wait(t, 10*time.Second, "harness.count('reconnecting') === 1")
	push("m3", "m4", "m5")
	b.wait(t, 15*time.Second, "harness.count('open') === 2 && harness.auths.length === 2")
	other.waitClosed(t)
	push("m6")
	want := []string{"m1", "m2", "m3", "m4", "m5", "m6"}
	b.wait(t, 10*time.Second, fmt.Sprintf("harness.messages.length >= %d", len(want)))
	time.Sleep(200 * time.Millisecond) // a repeat would arrive with m6

	var msgs []struct {
		Op   int32  `json:"op"`
		Seq  int32  `json:"seq"`
		Text string `json:"text"`
	}
	b.eval(t, "harness.messages", &msgs)
	var got []string
	for i, m := range msgs {
		got = append(got, m.Text)
		if m.Op != browserOp || m.Seq != int32(i+1) {
			t.Errorf("message %d %q: op %d seq %d, want op %d seq %d", i, m.Text, m.Op, m.Seq, browserOp, i+1)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("the page received %q, want %q: each room message once, in order", got, want)
	}
	b.eval(t, "harness.auths", &auths)
	if a := auths[1]; a == nil || !a.Resumed || a.RoomEpoch != epoch || a.RoomSeq < 2 {
		t.Errorf("auth reply of the reconnect %+v, want resumed under epoch %d with room_seq at least 2", a, epoch)
	}
	var gaps []any
	b.eval(t, "harness.gaps", &gaps)
	if len(gaps) != 0 {
		t.Errorf("gap events %v after a resumed reconnect, want none", gaps)
	}
	var state struct{ RoomSeq, RoomEpoch uint32 }
	b.eval(t, "({roomSeq: harness.client.roomSeq, roomEpoch: harness.client.roomEpoch})", &state)
	if state.RoomSeq != 6 || state.RoomEpoch != epoch {
		t.Errorf("client roomSeq %d roomEpoch %d, want 6 and %d", state.RoomSeq, state.RoomEpoch, epoch)
	}
	b.eval(t, "harness.client.close()", nil)
	var errs []string
	b.eval(t, "harness.errors", &errs)
	if len(errs) > 0 {
		t.Errorf("client errors: %q", errs)
	}
}
