package rpc

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ClientConfig configures a Client. The zero value is usable.
type ClientConfig struct {
	// MaxFrameSize is the largest frame length field (header plus payload)
	// the client sends or accepts; a longer call or one-way message fails
	// with ErrFrameTooLarge before anything is written, and a longer reply
	// closes the connection. Keep it equal to the server's. 0 means
	// DefaultMaxFrameSize.
	MaxFrameSize int
	// DialTimeout bounds one dial, with its TLS and secret handshakes. 0
	// means 3s.
	DialTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed dial; it
	// doubles from MinBackoff up to MaxBackoff, with jitter, and restarts
	// once a dial succeeds. A connection that breaks within a second of
	// being made counts as a failed dial: it is redialled after such a
	// backoff too. 0 means 50ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// WriteTimeout bounds the writing of one batch of frames; a connection
	// whose peer does not take it in time is closed (and redialled). 0
	// means 10s.
	WriteTimeout time.Duration
	// OnewayError, if set, is called with the method, the tag and the
	// error of every one-way message the server reports as failed (see
	// SendTagged); err is a *RemoteError. It runs on the connection's read
	// goroutine and must not block. The reports are counted in
	// ClientStats.OnewayErrors whether it is set or not.
	OnewayError func(method uint16, tag uint32, err error)
	// Secret is the cluster secret; it must be the server's. When set,
	// every connection runs the challenge-response handshake described in
	// the package doc before any frame: a dial whose handshake fails (a
	// different secret, a server without one) is a failed dial, counted
	// in AuthFailures and logged. Nil: no handshake, and a server that
	// has a secret refuses the connection.
	Secret []byte
	// TLSConfig, when set, makes every connection TLS (ClientTLSConfig
	// builds one from PEM files); an empty ServerName is taken from the
	// dialled address. Nil: plain TCP.
	TLSConfig *tls.Config
	// PingInterval is how long a connection may go without a frame
	// written before the client sends a keepalive (PingMethod), so that
	// the server's IdleTimeout never closes a healthy but quiet link. 0
	// means DefaultPingInterval; negative means no keepalives.
	PingInterval time.Duration
	// OnConnect, if set, is called each time a dial succeeds and its
	// connection becomes the live one: the first connection and every
	// reconnection after a loss. It runs on the connecting goroutine,
	// after the connection is usable, and must not block; a caller uses
	// it to act at once when a link comes back (a node re-reporting to
	// a restarted peer, for example).
	OnConnect func()
}

// ClientStats are a Client's counters since it was made.
type ClientStats struct {
	Connected    bool   // a connection is up now
	Dials        uint64 // dial attempts
	DialErrors   uint64 // failed dial attempts
	ConnsLost    uint64 // connections that broke (not counting Close)
	FramesOut    uint64 // frames queued for writing (calls and one-way messages)
	FramesIn     uint64 // frames read (replies and errors)
	LateReplies  uint64 // replies dropped because their caller had given up
	OnewayErrors uint64 // one-way messages the server reported as failed
	AuthFailures uint64 // dials whose TLS or secret handshake failed (counted in DialErrors too)
}

// Client calls one server over one connection, shared by all callers.
// It connects on first use, and again in the background whenever the
// connection breaks (with exponential backoff and jitter after failed
// dials and after connections that broke at once), until Close. Its
// methods are safe for concurrent use.
//
// Lock order: Client.mu, then a connection's connWriter.mu; clientConn.mu is
// never held with another lock (the keepalive takes connWriter.mu, then
// clientConn.mu, one after the other).
type Client struct {
	addr     string
	cfg      ClientConfig
	logger   *slog.Logger
	ctx      context.Context // cancelled by Close: stops dials and backoff waits
	cancel   context.CancelFunc
	callPool sync.Pool // *call
	seq      atomic.Uint32

	mu          sync.Mutex // guards the fields below
	cc          *clientConn
	connecting  bool          // connectLoop runs
	dialing     chan struct{} // closed when the current dial ends; nil while connectLoop waits out a backoff
	lastErr     error         // the last dial error, or the loss of a connection that broke at once
	lossBackoff time.Duration // the wait after the last quick connection loss; 0 after one that lasted
	closed      bool
	totals      ClientStats // frame counters of connections already gone

	dials, dialErrors, connsLost, authFailures atomic.Uint64
	wg                                         sync.WaitGroup // connectLoop and the connection goroutines
}

// NewClient returns a Client for the server at addr ("host:port"). It does
// not block: the first Call or Send connects. A nil logger means
// slog.Default().
func NewClient(addr string, cfg ClientConfig, logger *slog.Logger) *Client {
	if cfg.MaxFrameSize <= 0 {
		cfg.MaxFrameSize = DefaultMaxFrameSize
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 3 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 50 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.MinBackoff)
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if logger == nil {
		logger = slog.Default()
	}
	c := &Client{addr: addr, cfg: cfg, logger: logger.With("addr", addr)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.callPool.New = func() any { return &call{done: make(chan struct{}, 1)} }
	return c
}

// Addr returns the server address the client dials.
func (c *Client) Addr() string { return c.addr }

// Connected reports whether a connection is up now.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cc != nil
}

// Connect returns nil when a connection is up, waiting for a dial in
// progress, bounded by ctx; it starts one when there is none. It fails as
// Call does without a connection: with an error wrapping ErrUnavailable
// while the client waits out a backoff, and ErrClosed after Close. It is
// cheap when connected: a caller can check the link before each request.
func (c *Client) Connect(ctx context.Context) error {
	_, err := c.conn(ctx)
	return err
}

// Call sends req to method and appends the reply payload to reply. It
// returns a *RemoteError when the handler failed, ctx.Err() when ctx ended
// first (a reply that comes later is dropped), an error wrapping
// ErrConnLost when the connection broke before the reply came, ErrClosed
// after Close, and an error wrapping ErrUnavailable while the client waits
// out the backoff after a failed dial. On error reply is returned
// unchanged. req may be reused once Call returns.
func (c *Client) Call(ctx context.Context, method uint16, req []byte, reply []byte) ([]byte, error) {
	if err := c.checkSize(len(req)); err != nil {
		return reply, err
	}
	cc, err := c.conn(ctx)
	if err != nil {
		return reply, err
	}
	cl := c.callPool.Get().(*call)
	cl.reply = reply
	seq, err := cc.register(&c.seq, cl)
	if err != nil {
		c.putCall(cl)
		return reply, err
	}
	if err := cc.w.writeFrame(ctx, header{kind: KindCall, method: method, seq: seq}, req, true); err != nil {
		if cc.unregister(seq) {
			c.putCall(cl)
			return reply, err
		}
		// The connection failed meanwhile and completed the call: wait below.
	}
	select {
	case <-cl.done:
	case <-ctx.Done():
		if cc.unregister(seq) {
			c.putCall(cl)
			return reply, ctx.Err()
		}
		<-cl.done // the read loop has it and is about to finish it
	}
	out, err := cl.reply, cl.err
	c.putCall(cl)
	if err != nil {
		return reply, err
	}
	return out, nil
}

// Send queues a one-way message and returns without waiting for the
// server. A nil error means the frame was queued on (or written to) the
// connection, not that it was delivered: frames queued when the connection
// breaks are lost, and a handler's failure comes back later (see
// SendTagged). Messages sent from one goroutine are written in order.
// payload may be reused once Send returns. Errors are as for Call.
func (c *Client) Send(ctx context.Context, method uint16, payload []byte) error {
	return c.SendTagged(ctx, method, 0, payload)
}

// SendTagged is Send with a tag of the caller's choosing in the frame's seq
// field. The server handles the message as any other one-way message; if
// its handler fails, the server reports the error with the same method and
// tag, and the client counts it (ClientStats.OnewayErrors) and passes it to
// ClientConfig.OnewayError. A tag can so say what a failure costs the
// sender (for example how many messages the request carried).
func (c *Client) SendTagged(ctx context.Context, method uint16, tag uint32, payload []byte) error {
	if err := c.checkSize(len(payload)); err != nil {
		return err
	}
	cc, err := c.conn(ctx)
	if err != nil {
		return err
	}
	return cc.w.writeFrame(ctx, header{kind: KindOneway, method: method, seq: tag}, payload, false)
}

func (c *Client) checkSize(n int) error {
	if headerLen+n > c.cfg.MaxFrameSize {
		return fmt.Errorf("%w: payload of %d bytes", ErrFrameTooLarge, n)
	}
	return nil
}

func (c *Client) putCall(cl *call) {
	cl.reply, cl.err = nil, nil
	c.callPool.Put(cl)
}

// Close closes the connection, fails pending calls with ErrClosed and
// stops reconnecting. It returns when the client's goroutines have ended.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	cc := c.cc
	c.mu.Unlock()
	c.cancel()
	if cc != nil {
		cc.fail(ErrClosed)
	}
	c.wg.Wait()
	return nil
}

// Stats returns the client's counters.
func (c *Client) Stats() ClientStats {
	c.mu.Lock()
	st := c.totals
	if c.cc != nil {
		st.Connected = true
		c.cc.addStats(&st)
	}
	c.mu.Unlock()
	st.Dials = c.dials.Load()
	st.DialErrors = c.dialErrors.Load()
	st.ConnsLost = c.connsLost.Load()
	st.AuthFailures = c.authFailures.Load()
	return st
}
