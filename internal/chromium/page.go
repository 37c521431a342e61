package chromium

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrJS: a script evaluated by Evaluate threw, or its promise rejected;
// the error text holds the exception.
var ErrJS = errors.New("chromium: script failed")

// maxLog is the most console lines a Page keeps (the oldest are dropped).
const maxLog = 1000

// Page is one browser tab, attached through its own DevTools session. Its
// methods are safe for concurrent use.
//
// Lock order: the connection's lock, then mu (events are routed under the
// connection's lock).
type Page struct {
	c       *conn
	target  string // target id
	session string // session id

	mu  sync.Mutex // guards log
	log []string   // console messages and uncaught exceptions, oldest first
}

// NewPage opens a tab on about:blank and attaches to it, with the Page and
// Runtime domains enabled (console output is collected, see Log).
func (b *Browser) NewPage(ctx context.Context) (*Page, error) {
	var created struct {
		TargetID string `json:"targetId"`
	}
	if err := b.cdp.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created); err != nil {
		return nil, err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	params := map[string]any{"targetId": created.TargetID, "flatten": true}
	if err := b.cdp.call(ctx, "", "Target.attachToTarget", params, &attached); err != nil {
		return nil, err
	}
	p := &Page{c: b.cdp, target: created.TargetID, session: attached.SessionID}
	b.cdp.attach(p)
	for _, m := range []string{"Page.enable", "Runtime.enable"} {
		if err := p.call(ctx, m, nil, nil); err != nil {
			p.Close(ctx)
			return nil, err
		}
	}
	// A navigation issued while the tab still loads about:blank is aborted.
	if err := p.WaitTrue(ctx, "document.readyState === 'complete'", 10*time.Millisecond); err != nil {
		p.Close(ctx)
		return nil, err
	}
	return p, nil
}

// call sends a command to the page's session.
func (p *Page) call(ctx context.Context, method string, params, out any) error {
	return p.c.call(ctx, p.session, method, params, out)
}

// Close closes the tab. The Browser stays usable.
func (p *Page) Close(ctx context.Context) error {
	p.c.detach(p)
	return p.c.call(ctx, "", "Target.closeTarget", map[string]any{"targetId": p.target}, nil)
}

// navigateTries is how many times Navigate starts a navigation that the
// browser aborted (net::ERR_ABORTED: another navigation, such as the tab's
// first, interrupted it).
const navigateTries = 3

// Navigate loads url and waits until the document at url has loaded
// (document.readyState is "complete"), polling every 20ms within ctx.
func (p *Page) Navigate(ctx context.Context, url string) error {
	for try := 1; ; try++ {
		var nav struct {
			ErrorText string `json:"errorText"`
		}
		if err := p.call(ctx, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
			return err
		}
		if nav.ErrorText == "" {
			break
		}
		if nav.ErrorText != "net::ERR_ABORTED" || try == navigateTries {
			return fmt.Errorf("chromium: navigate to %s: %s", url, nav.ErrorText)
		}
	}
	want, _ := json.Marshal(url)
	expr := "location.href === " + string(want) + " && document.readyState === 'complete'"
	if err := p.WaitTrue(ctx, expr, 20*time.Millisecond); err != nil {
		return fmt.Errorf("chromium: navigate to %s: %w", url, err)
	}
	return nil
}

// evalResult is the answer of Runtime.evaluate.
type evalResult struct {
	Result struct {
		Type        string          `json:"type"`
		Value       json.RawMessage `json:"value"`
		Description string          `json:"description"`
	} `json:"result"`
	ExceptionDetails *struct {
		Text      string `json:"text"`
		Exception struct {
			Description string          `json:"description"`
			Value       json.RawMessage `json:"value"`
		} `json:"exception"`
	} `json:"exceptionDetails"`
}

// Evaluate runs the JavaScript expression expr in the page, awaits it if
// it is a promise, and decodes its value (returned by value, as JSON) into
// out, unless out is nil. An exception or a rejected promise is returned
// as an error wrapping ErrJS; an undefined result leaves out unchanged.
func (p *Page) Evaluate(ctx context.Context, expr string, out any) error {
	params := map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}
	var r evalResult
	if err := p.call(ctx, "Runtime.evaluate", params, &r); err != nil {
		return err
	}
	if d := r.ExceptionDetails; d != nil {
		what := d.Exception.Description
		if what == "" {
			what = string(d.Exception.Value)
		}
		return fmt.Errorf("%w: %s: %s", ErrJS, d.Text, what)
	}
	if out == nil || r.Result.Type == "undefined" || len(r.Result.Value) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.Result.Value, out); err != nil {
		return fmt.Errorf("chromium: decode value of %.80q: %w", expr, err)
	}
	return nil
}

// WaitTrue evaluates expr every interval until it is true, failing when
// ctx ends (with the error of the last evaluation, if any).
func (p *Page) WaitTrue(ctx context.Context, expr string, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var ok bool
		err := p.Evaluate(ctx, "!!("+expr+")", &ok)
		if err == nil && ok {
			return nil
		}
		if ctx.Err() != nil || errors.Is(err, ErrClosed) {
			if err == nil {
				err = ctx.Err()
			}
			return fmt.Errorf("waiting for %.200q: %w", expr, err)
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// Screenshot returns a PNG of the visible part of the page.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	var shot struct {
		Data string `json:"data"`
	}
	if err := p.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		return nil, err
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		return nil, fmt.Errorf("chromium: decode screenshot: %w", err)
	}
	return png, nil
}

// Log returns the page's console messages and uncaught exceptions so far,
// one line each, oldest first (at most the last 1000).
func (p *Page) Log() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

// event handles an event of the page's session. It runs under the
// connection's lock.
func (p *Page) event(method string, params json.RawMessage) {
	var line string
	switch method {
	case "Runtime.consoleAPICalled":
		line = consoleLine(params)
	case "Runtime.exceptionThrown":
		line = exceptionLine(params)
	default:
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.log) == maxLog {
		p.log = append(p.log[:0], p.log[1:]...)
	}
	p.log = append(p.log, line)
}

// consoleLine formats a Runtime.consoleAPICalled event as "type: args".
func consoleLine(params json.RawMessage) string {
	var e struct {
		Type string `json:"type"`
		Args []struct {
			Value       json.RawMessage `json:"value"`
			Description string          `json:"description"`
		} `json:"args"`
	}
	if err := json.Unmarshal(params, &e); err != nil {
		return "console: undecodable event: " + err.Error()
	}
	parts := make([]string, 0, len(e.Args))
	for _, a := range e.Args {
		var s string
		switch {
		case json.Unmarshal(a.Value, &s) == nil:
		case len(a.Value) > 0:
			s = string(a.Value)
		default:
			s = a.Description
		}
		parts = append(parts, s)
	}
	return e.Type + ": " + strings.Join(parts, " ")
}

// exceptionLine formats a Runtime.exceptionThrown event.
func exceptionLine(params json.RawMessage) string {
	var e struct {
		Details struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(params, &e); err != nil {
		return "exception: undecodable event: " + err.Error()
	}
	return "exception: " + e.Details.Text + " " + e.Details.Exception.Description
}
