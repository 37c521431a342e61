package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/goimx/goim/internal/chromium"
)

// TestBrowserDemo loads the all-in-one binary's demo page (/demo/) in a
// real browser: the page connects to the node's comet with goim.js, its
// push form pushes to its room through the HTTP API, and the message
// shows on the page, as do messages pushed to the room from outside.
func TestBrowserDemo(t *testing.T) {
	t.Parallel()
	br := chromium.ForTest(t)
	c := startBrowserCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := &browserPage{p: chromium.PageForTest(t, br), ctx: ctx}
	if err := b.p.Navigate(ctx, c.httpURL+"/demo/"); err != nil {
		t.Fatal(err)
	}
	// The page connects at once, to the room its form names.
	b.waitDemo(t, "document.getElementById('state').textContent === 'open'")
	var room string
	b.eval(t, "document.getElementById('room').value", &room)
	if room != "live://demo" {
		t.Fatalf("demo room %q, want live://demo", room)
	}

	// Fill in the push form and submit it, as a user would.
	b.eval(t, `document.getElementById('text').value = 'hello from the form';
		document.getElementById('push').requestSubmit()`, nil)
	b.waitDemo(t, "document.querySelectorAll('#messages li').length >= 1")
	// A push from outside, by the API, to the same room.
	d := c.pushOK(t, "/goim/push/room", url.Values{"operation": {strconv.Itoa(browserOp)}, "type": {"live"}, "room": {"demo"}}, "hello from outside")
	if d.Conns < 1 && d.Comets < 1 {
		t.Errorf("push to live://demo: %+v, want it to reach the page's connection", d)
	}
	b.waitDemo(t, "document.querySelectorAll('#messages li').length >= 2")
	var items []string
	b.eval(t, "[...document.querySelectorAll('#messages li')].map((li) => li.textContent)", &items)
	want := []string{"#1hello from the form", "#2hello from outside"}
	if fmt.Sprint(items) != fmt.Sprint(want) {
		t.Errorf("the page shows %q, want %q", items, want)
	}
	var logText string
	b.eval(t, "document.getElementById('log').textContent", &logText)
	if logText != "" {
		t.Errorf("the page reports %q, want nothing", logText)
	}
}

// waitDemo waits up to 15s for expr to be true in the demo page,
// reporting the page's state and log line when it is not.
func (b *browserPage) waitDemo(t testing.TB, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := b.p.WaitTrue(ctx, expr, 20*time.Millisecond); err != nil {
		var state, log string
		b.p.Evaluate(b.ctx, "document.getElementById('state').textContent", &state)
		b.p.Evaluate(b.ctx, "document.getElementById('log').textContent", &log)
		t.Fatalf("%s: %v\nstate %q, log %q, console %q", expr, err, state, log, b.p.Log())
	}
}
