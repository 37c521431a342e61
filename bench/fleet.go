package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goimx/goim/client"
)

// Readers of a Fleet (FleetConfig.Reader).
const (
	// ReaderConn reads each connection with the client library on a
	// goroutine of its own (any transport, any platform).
	ReaderConn = "conn"
	// ReaderEpoll reads raw sockets with a few epoll workers (Linux, tcp
	// and ws): no goroutine per connection and no scheduler trip per
	// message, so a load generator sharing the machine takes less of it.
	ReaderEpoll = "epoll"
)

// ErrNoEpoll is returned by Connect for ReaderEpoll where it is not
// available.
var ErrNoEpoll = errors.New("bench: the epoll reader needs Linux")

// Defaults of FleetConfig.
const (
	DefaultDialers     = 64
	DefaultDialTimeout = 30 * time.Second
)

// FleetConfig configures a Fleet of client connections.
type FleetConfig struct {
	// Addr is the comet's client address: host:port, or a ws:// URL; or
	// several, comma-separated (several comets), connection i dialing
	// the (i mod n)-th. Required.
	Addr string
	// Transport is client.TransportTCP or client.TransportWS. Empty means
	// TCP (or the scheme of a ws:// Addr).
	Transport string
	// N is the number of connections.
	N int
	// LocalIPs are source addresses, used round robin (e.g. LoopbackIPs(8),
	// to open more connections to one server than one source address has
	// ports). Empty lets the system choose.
	LocalIPs []string
	// Dialers is how many connections are dialed at once. Zero means
	// DefaultDialers.
	Dialers int
	// DialTimeout bounds each dial and auth. Zero means DefaultDialTimeout.
	DialTimeout time.Duration
	// Heartbeat is the heartbeat interval, sent for all connections from
	// one goroutine (client.Heartbeater). Zero sends none.
	Heartbeat time.Duration
	// Token returns the auth token of connection i (0 <= i < N). Nil means
	// anonymous connections in no room accepting only Op.
	Token func(i int) client.Token
	// Op is the operation of the stamped messages the fleet counts; other
	// packets (heartbeat replies, other pushes) are ignored.
	Op int32
	// Reader is ReaderConn or ReaderEpoll. Empty means ReaderConn.
	Reader string
	// EpollWorkers is the number of epoll workers of ReaderEpoll. Zero
	// means GOMAXPROCS.
	EpollWorkers int
}

// member is one connection of a Fleet. got is written by its reader
// only and read by anyone.
type member struct {
	c   *client.Conn // ReaderConn
	raw *rawConn     // ReaderEpoll
	idx int
	got atomic.Uint64 // stamped messages of all rounds received
	_   [40]byte      // keep members' counters on separate cache lines
}

// Round is one measurement: the stamped messages of round ID received
// since the round began, and their latencies.
type Round struct {
	ID    uint32     // stamped in the messages of the round
	Hist  *Histogram // latencies of the round's messages received
	Start time.Time  // when BeginRound made it
}

// Received returns how many messages of the round the fleet received.
func (r *Round) Received() uint64 { return r.Hist.Count() }

// Fleet is a set of authenticated client connections, each read by its
// own goroutine, which counts the stamped messages of the current round
// (op FleetConfig.Op) and records their age in the round's Histogram with
// no allocation per message.
type Fleet struct {
	cfg       FleetConfig
	addrs     []string                 // cfg.Addr split at commas
	members   []atomic.Pointer[member] // index i is connection i; nil until dialed
	hb        *client.Heartbeater      // ReaderConn heartbeats
	epoll     *epollReaders            // ReaderEpoll workers; nil until Connect
	epollOnce sync.Once
	epollErr  error
	cur       atomic.Pointer[Round]
	rounds    atomic.Uint32 // id of the last round begun
	connected atomic.Int64  // connections dialed and authenticated
	lost      atomic.Uint64 // connections that failed (read error) before Close
	stale     atomic.Uint64 // stamped messages of another round than the current
	bad       atomic.Uint64 // messages of op Op without a stamp
	closing   atomic.Bool
	closeOnce sync.Once
	readers   sync.WaitGroup
}

// NewFleet returns an empty Fleet for cfg; Connect opens its connections.
func NewFleet(cfg FleetConfig) *Fleet {
	if cfg.Dialers <= 0 {
		cfg.Dialers = DefaultDialers
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	f := &Fleet{cfg: cfg, addrs: strings.Split(cfg.Addr, ","), members: make([]atomic.Pointer[member], cfg.N)}
	if cfg.Heartbeat > 0 && cfg.Reader != ReaderEpoll {
		f.hb = client.NewHeartbeater(cfg.Heartbeat)
	}
	return f
}

// LoopbackIPs returns the n source addresses 127.0.0.1 ... 127.0.0.n
// (n at most 254).
func LoopbackIPs(n int) []string { return LoopbackIPRange(1, n) }

// LoopbackIPRange returns the n source addresses 127.0.0.first ...
// 127.0.0.(first+n-1), leaving out those above 127.0.0.254.
func LoopbackIPRange(first, n int) []string {
	first = max(first, 1)
	var ips []string
	for i := first; i < first+n && i <= 254; i++ {
		ips = append(ips, fmt.Sprintf("127.0.0.%d", i))
	}
	return ips
}

// Connect dials the fleet's N connections, Dialers at a time, and starts a
// reader for each. It stops at the first failure and returns it (the
// connections already open stay, for Close). Connected may be read while
// it runs.
func (f *Fleet) Connect(ctx context.Context) error {
	if f.cfg.Reader == ReaderEpoll {
		f.epollOnce.Do(func() { f.epollErr = f.newEpoll() })
		if f.epollErr != nil {
			return f.epollErr
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for range min(f.cfg.Dialers, max(f.cfg.N, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= f.cfg.N || ctx.Err() != nil {
					return
				}
				if err := f.dial(ctx, i); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("bench: %d of %d connections open: %w", f.Connected(), f.cfg.N, firstErr)
	}
	return nil
}

// dial opens connection i and starts its reader.
func (f *Fleet) dial(ctx context.Context, i int) error {
	var local string
	if n := len(f.cfg.LocalIPs); n > 0 {
		local = f.cfg.LocalIPs[i%n]
	}
	if f.cfg.Reader == ReaderEpoll {
		if _, err := f.dialEpoll(i, f.addrOf(i), local); err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		f.connected.Add(1)
		return nil
	}
	cc := client.Config{
		Transport:   f.cfg.Transport,
		Addr:        f.addrOf(i),
		Token:       f.token(i),
		DialTimeout: f.cfg.DialTimeout,
		LocalAddr:   local,
	}
	c, err := client.Dial(ctx, cc)
	if err != nil {
		return fmt.Errorf("connection %d: %w", i, err)
	}
	m := &member{c: c, idx: i}
	f.members[i].Store(m)
	f.connected.Add(1)
	if f.hb != nil {
		f.hb.Add(c)
	}
	f.readers.Add(1)
	go f.read(m)
	return nil
}

// addrOf returns the comet address connection i dials.
func (f *Fleet) addrOf(i int) string { return f.addrs[i%len(f.addrs)] }

// token returns connection i's token.
func (f *Fleet) token(i int) client.Token {
	if f.cfg.Token != nil {
		return f.cfg.Token(i)
	}
	return client.Token{Platform: "web", Accepts: []int32{f.cfg.Op}}
}

// read is connection m's reader: it counts and times the stamped messages
// of the current round until the connection fails or closes.
func (f *Fleet) read(m *member) {
	defer f.readers.Done()
	for {
		msg, err := m.c.Read()
		if err != nil {
			if !f.closing.Load() && !errors.Is(err, client.ErrClosed) {
				f.lost.Add(1)
			}
			return
		}
		f.deliver(m, msg.Op, msg.Body, time.Now())
	}
}

// deliver counts and times one packet that connection m received at now.
func (f *Fleet) deliver(m *member, op int32, body []byte, now time.Time) {
	if op != f.cfg.Op {
		return
	}
	st, err := ParseStamp(body)
	if err != nil {
		f.bad.Add(1)
		return
	}
	r := f.cur.Load()
	if r == nil || st.Round != r.ID {
		f.stale.Add(1)
		return
	}
	r.Hist.Record(m.idx, st.Age(now))
	m.got.Add(1)
}

// BeginRound starts a new round: from now on only messages stamped with
// the returned round's ID are counted (in it), others are stale.
func (f *Fleet) BeginRound() *Round {
	return f.beginRound(f.rounds.Add(1))
}

// beginRound starts round id (a Group's member takes its ids from the
// Group).
func (f *Fleet) beginRound(id uint32) *Round {
	f.rounds.Store(id)
	r := &Round{ID: id, Hist: NewHistogram(), Start: time.Now()}
	f.cur.Store(r)
	return r
}

// StartRound is BeginRound, for Receivers.
func (f *Fleet) StartRound() (*Round, error) { return f.BeginRound(), nil }

// Collect does nothing: a Fleet's rounds are counted as messages arrive.
func (f *Fleet) Collect(*Round) error { return nil }

// Conn returns connection i, nil if it is not open or is read by the
// epoll reader.
func (f *Fleet) Conn(i int) *client.Conn {
	if m := f.members[i].Load(); m != nil {
		return m.c
	}
	return nil
}

// Received returns how many messages connection i counted in all rounds.
func (f *Fleet) Received(i int) uint64 {
	if m := f.members[i].Load(); m != nil {
		return m.got.Load()
	}
	return 0
}

// Len returns the configured number of connections.
func (f *Fleet) Len() int { return f.cfg.N }

// Connected returns how many connections were opened.
func (f *Fleet) Connected() int { return int(f.connected.Load()) }

// Lost returns how many connections failed before Close.
func (f *Fleet) Lost() uint64 { return f.lost.Load() }

// Stale returns how many stamped messages arrived outside their round.
func (f *Fleet) Stale() uint64 { return f.stale.Load() }

// Bad returns how many messages of op Op carried no stamp.
func (f *Fleet) Bad() uint64 { return f.bad.Load() }

// WaitReceived waits until the round received want messages, ctx ends or
// no message arrived for idle, polling every millisecond (the fan-out
// benchmarks' drain). It returns the count received and when it last
// grew (the time of the last delivery, within a millisecond).
func (r *Round) WaitReceived(ctx context.Context, want uint64, idle time.Duration) (uint64, time.Time) {
	got := r.Received()
	lastAt := time.Now()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for got < want {
		select {
		case <-ctx.Done():
			return got, lastAt
		case <-t.C:
		}
		n := r.Received()
		if n != got {
			got, lastAt = n, time.Now()
		} else if time.Since(lastAt) > idle {
			return got, lastAt
		}
	}
	return got, lastAt
}

// Close closes every connection and waits for the readers to end. Calls
// after the first do nothing.
func (f *Fleet) Close() {
	f.closeOnce.Do(f.close)
}

func (f *Fleet) close() {
	f.closing.Store(true)
	if f.hb != nil {
		f.hb.Close()
	}
	if f.epoll != nil {
		f.epoll.close()
	}
	for i := range f.members {
		if m := f.members[i].Load(); m != nil && m.c != nil {
			m.c.Close()
		}
	}
	f.readers.Wait()
}
