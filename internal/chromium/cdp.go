package chromium

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/goimx/goim/websocket"
)

// ErrClosed: the DevTools connection is closed (Close was called or the
// browser went away).
var ErrClosed = errors.New("chromium: devtools connection closed")

// maxMessage caps one DevTools message (a full-page screenshot in base64
// can take tens of megabytes).
const maxMessage = 256 << 20

// request is one DevTools command on the wire.
type request struct {
	ID        int64  `json:"id"`
	Method    string `json:"method"`
	Params    any    `json:"params,omitempty"`
	SessionID string `json:"sessionId,omitempty"`
}

// message is a DevTools answer or event.
type message struct {
	ID        int64           `json:"id"`
	Result    json.RawMessage `json:"result"`
	Error     *RemoteError    `json:"error"`
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	SessionID string          `json:"sessionId"`
}

// RemoteError is an error answer of the browser to a command.
type RemoteError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data"`
}

// Error implements error.
func (e *RemoteError) Error() string {
	s := fmt.Sprintf("chromium: devtools error %d: %s", e.Code, e.Message)
	if e.Data != "" {
		s += ": " + e.Data
	}
	return s
}

// conn is a DevTools protocol connection: JSON commands out, answers
// matched by id, events handed to the session they name. One goroutine
// (readLoop) reads; it ends when the WebSocket does.
type conn struct {
	ws   *websocket.Conn
	done chan struct{} // closed when readLoop has ended

	mu       sync.Mutex // guards nextID, pending, sessions, err
	nextID   int64
	pending  map[int64]chan message // answers awaited, by command id
	sessions map[string]*Page       // attached pages, by session id
	err      error                  // why the connection ended; set once
}

// dial connects to the browser's DevTools WebSocket URL.
func dial(ctx context.Context, url string) (*conn, error) {
	// No Origin header: Chromium refuses DevTools connections from other
	// origins than those allowed by --remote-allow-origins.
	ws, err := websocket.Dial(ctx, url, websocket.DialConfig{Conn: websocket.ConnConfig{MaxMessageSize: maxMessage}})
	if err != nil {
		return nil, err
	}
	c := &conn{ws: ws, done: make(chan struct{}), pending: map[int64]chan message{}, sessions: map[string]*Page{}}
	go c.readLoop()
	return c, nil
}

// readLoop reads messages until the connection fails, routing answers to
// their callers and events to their pages.
func (c *conn) readLoop() {
	defer close(c.done)
	var buf []byte
	for {
		_, msg, err := c.ws.ReadMessage(buf[:0])
		if err != nil {
			c.fail(fmt.Errorf("%w: %w", ErrClosed, err))
			return
		}
		buf = msg
		var m message
		if err := json.Unmarshal(msg, &m); err != nil {
			c.fail(fmt.Errorf("chromium: bad devtools message: %w", err))
			c.ws.Close()
			return
		}
		c.route(m)
	}
}

// route hands m to the caller waiting for it or to its page.
func (c *conn) route(m message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.ID != 0 {
		if ch, ok := c.pending[m.ID]; ok {
			delete(c.pending, m.ID)
			ch <- m // buffered
		}
		return
	}
	if p, ok := c.sessions[m.SessionID]; ok {
		p.event(m.Method, m.Params)
	}
}

// fail records err as the reason the connection ended and fails every
// pending command.
func (c *conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	for id, ch := range c.pending {
		delete(c.pending, id)
		close(ch)
	}
}

// close closes the connection and waits for readLoop to end.
func (c *conn) close() {
	c.fail(ErrClosed)
	c.ws.Close()
	<-c.done
}

// call sends method with params (to session, "" for the browser) and
// decodes the answer's result into out (unless out is nil). It returns
// when the answer arrives, ctx ends or the connection fails.
func (c *conn) call(ctx context.Context, session, method string, params, out any) error {
	ch := make(chan message, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return fmt.Errorf("%s: %w", method, err)
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()

	b, err := json.Marshal(request{ID: id, Method: method, Params: params, SessionID: session})
	if err == nil {
		err = c.ws.WriteMessage(websocket.OpText, b)
	}
	if err != nil {
		c.forget(id)
		return fmt.Errorf("chromium: send %s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: %w", method, c.reason())
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %w", method, m.Error)
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(m.Result, out); err != nil {
			return fmt.Errorf("chromium: decode %s result: %w", method, err)
		}
		return nil
	case <-ctx.Done():
		c.forget(id)
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// forget drops the pending entry of command id.
func (c *conn) forget(id int64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// reason returns why the connection ended.
func (c *conn) reason() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		return ErrClosed
	}
	return c.err
}

// attach registers p for the events of its session.
func (c *conn) attach(p *Page) {
	c.mu.Lock()
	c.sessions[p.session] = p
	c.mu.Unlock()
}

// detach stops routing events to p.
func (c *conn) detach(p *Page) {
	c.mu.Lock()
	delete(c.sessions, p.session)
	c.mu.Unlock()
}
