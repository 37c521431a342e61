package e2e

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/goimx/goim/internal/chromium"
)

// TestStatusPage loads the all-in-one's status page (GET /) in headless
// Chromium, connects two clients in one room and pushes, and checks that
// the page's numbers follow: connections, the top room, the comet's
// connection count, and the push counters.
func TestStatusPage(t *testing.T) {
	t.Parallel()
	br := chromium.ForTest(t)
	c := startAllInOne(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := chromium.PageForTest(t, br)
	if err := p.Navigate(ctx, c.httpURL+"/"); err != nil {
		t.Fatal(err)
	}
	wait := func(what, expr string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := p.WaitTrue(wctx, expr, 50*time.Millisecond); err != nil {
			var state string
			_ = p.Evaluate(ctx, "document.getElementById('state').textContent + ' | ' + document.body.innerText", &state)
			t.Fatalf("%s: %v\npage: %s", what, err, state)
		}
	}
	num := func(id string) string { return fmt.Sprintf("document.getElementById(%q).textContent", id) }
	wait("first refresh", "window.goimStatus && window.goimStatus.refreshes >= 1")
	wait("no connection yet", num("conns")+" === '0'")
	wait("one comet", num("comets")+" === '1' && document.querySelectorAll('#nodes tr').length === 1")

	room := "live://status"
	a := dialClient(t, "a", "tcp", c.comets[0].tcp, token(1, "status-a", room, 1000))
	b := dialClient(t, "b", "ws", c.comets[0].ws, token(2, "status-b", room, 1000))
	wait("two connections", num("conns")+" === '2'")
	wait("the room on top", `(() => { const r = document.querySelector('#top-rooms tr');
		return r !== null && r.cells[0].textContent === 'status' && r.cells[1].textContent === '2'; })()`)
	wait("the comet's connections", `document.querySelector('#nodes tr').cells[3].textContent === '2'`)

	c.pushOK(t, "/goim/push/room", url.Values{"operation": {"1000"}, "type": {"live"}, "room": {"status"}}, "to the room")
	for _, cl := range []*tclient{a, b} {
		if !cl.receivedWithin("to the room", 10*time.Second) {
			t.Fatalf("client %s did not get the push", cl.name)
		}
	}
	wait("the push counted", "Number("+num("pushes")+") >= 1")
	wait("a push rate", "Number("+num("push-rate")+") > 0")
	var errs int
	if err := p.Evaluate(ctx, "window.goimStatus.errors", &errs); err != nil || errs != 0 {
		t.Errorf("page refresh errors %d (%v)", errs, err)
	}
	a.close()
	wait("one connection left", num("conns")+" === '1'")
}
