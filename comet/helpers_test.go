package comet

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goimx/goim/logic/logicrpc"
	"github.com/goimx/goim/protocol"
	"github.com/goimx/goim/websocket"
)

// waitTimeout bounds every "should happen" wait of the tests: generous,
// since the machine is small and shared and tests run under -race.
const waitTimeout = 10 * time.Second

// token is the client's auth token (PROTOCOL.md).
type token struct {
	Mid      int64    `json:"mid"`
	Key      string   `json:"key"`
	RoomID   string   `json:"room_id"`
	Platform string   `json:"platform"`
	Accepts  []int32  `json:"accepts"`
	Rooms    []string `json:"rooms,omitempty"`
}

// fakeLogic is an in-process logicrpc.Service: it decodes the unsigned
// JSON token, refuses mid < 0, assigns keys, and records what it is told.
type fakeLogic struct {
	heartbeat time.Duration // returned at Connect
	stateless bool          // record nothing (memory benchmarks)
	keySeq    atomic.Uint64

	mu          sync.Mutex
	connects    []logicrpc.ConnectReq
	disconnects []logicrpc.DisconnectReq
	heartbeats  []logicrpc.HeartbeatReq
	receives    []logicrpc.ReceiveReq
	reports     []logicrpc.ReportReq
	sessions    []logicrpc.Session
	extra       int32 // added to every room count in Report replies
	epoch       int64
	known       bool
}

var errRefused = errors.New("fake logic: token refused")

func (l *fakeLogic) Connect(ctx context.Context, req *logicrpc.ConnectReq) (*logicrpc.ConnectReply, error) {
	var tk token
	if err := json.Unmarshal(req.Token, &tk); err != nil {
		return nil, fmt.Errorf("%w: %v", errRefused, err)
	}
	if tk.Mid < 0 {
		return nil, errRefused
	}
	if tk.Key == "" {
		tk.Key = fmt.Sprintf("00000000-0000-4000-8000-%012d", l.keySeq.Add(1))
	}
	if !l.stateless {
		l.mu.Lock()
		r := *req
		r.Token = bytes.Clone(req.Token)
		l.connects = append(l.connects, r)
		l.mu.Unlock()
	}
	return &logicrpc.ConnectReply{Mid: tk.Mid, Key: tk.Key, RoomID: tk.RoomID, Platform: tk.Platform,
		Accepts: tk.Accepts, Heartbeat: l.heartbeat, Rooms: tk.Rooms}, nil
}

func (l *fakeLogic) Disconnect(ctx context.Context, req *logicrpc.DisconnectReq) (*logicrpc.DisconnectReply, error) {
	if !l.stateless {
		l.mu.Lock()
		l.disconnects = append(l.disconnects, *req)
		l.mu.Unlock()
	}
	return &logicrpc.DisconnectReply{Has: true}, nil
}

func (l *fakeLogic) Heartbeat(ctx context.Context, req *logicrpc.HeartbeatReq) error {
	l.mu.Lock()
	l.heartbeats = append(l.heartbeats, *req)
	l.mu.Unlock()
	return nil
}

func (l *fakeLogic) Report(ctx context.Context, req *logicrpc.ReportReq) (*logicrpc.ReportReply, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reports = append(l.reports, *req)
	counts := make(map[string]int32, len(req.RoomCount))
	for id, n := range req.RoomCount {
		counts[id] = n + l.extra
	}
	known := l.known
	l.known = true
	return &logicrpc.ReportReply{Epoch: l.epoch, Known: known, RoomCount: counts}, nil
}

func (l *fakeLogic) Receive(ctx context.Context, req *logicrpc.ReceiveReq) error {
	l.mu.Lock()
	r := *req
	r.Body = bytes.Clone(req.Body)
	l.receives = append(l.receives, r)
	l.mu.Unlock()
	return nil
}

func (l *fakeLogic) Nodes(ctx context.Context, req *logicrpc.NodesReq) (*logicrpc.NodesReply, error) {
	return &logicrpc.NodesReply{}, nil
}

func (l *fakeLogic) Sessions(ctx context.Context, req *logicrpc.SessionsReq) error {
	l.mu.Lock()
	l.sessions = append(l.sessions, req.Sessions...)
	l.mu.Unlock()
	return nil
}

// snapshot returns copies of the recorded calls under the lock.
func (l *fakeLogic) disconnected() []logicrpc.DisconnectReq {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logicrpc.DisconnectReq(nil), l.disconnects...)
}

func (l *fakeLogic) received() []logicrpc.ReceiveReq {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logicrpc.ReceiveReq(nil), l.receives...)
}

// logBuffer is a concurrency-safe log sink for asserting on log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (lb *logBuffer) Write(p []byte) (int, error) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.b.Write(p)
}

func (lb *logBuffer) String() string {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.b.String()
}

// server is a comet under test with loopback TCP and WebSocket listeners.
type server struct {
	cm    *Comet
	logic *fakeLogic
	log   *logBuffer
	tcp   string // TCP listener address
	ws    string // WebSocket listener address
}

// startServer starts a comet with cfg (ReportInterval negative unless set)
// on loopback listeners; it is closed when the test ends.
func startServer(t testing.TB, cfg Config, logic *fakeLogic) *server {
	t.Helper()
	if logic == nil {
		logic = &fakeLogic{}
	}
	if cfg.ReportInterval == 0 {
		cfg.ReportInterval = -1
	}
	if cfg.NodeID == "" {
		cfg.NodeID = "comet-test"
	}
	lb := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cm, err := New(cfg, logic, logger)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cm: cm, logic: logic, log: lb}
	tcpLn := listenLoopback(t)
	wsLn := listenLoopback(t)
	s.tcp, s.ws = tcpLn.Addr().String(), wsLn.Addr().String()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = cm.ServeTCP(tcpLn) }()
	go func() { defer wg.Done(); _ = cm.ServeWS(wsLn) }()
	t.Cleanup(func() {
		cm.Close()
		wg.Wait()
	})
	return s
}

func listenLoopback(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// client is a raw protocol client, TCP or WebSocket (masked frames built
// by hand), used to check the bytes on the wire.
type client struct {
	t   testing.TB
	nc  net.Conn
	ws  bool
	seq int32
	r   io.Reader // nc, after the WebSocket handshake's leftover
}

// dialTCP connects a raw TCP client.
func dialTCP(t testing.TB, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, r: nc}
}

// dialWS connects a raw WebSocket client to path /sub.
func dialWS(t testing.TB, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(waitTimeout))
	leftover, err := websocket.ClientHandshake(nc, nil, addr, "/sub", "")
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Time{})
	return &client{t: t, nc: nc, ws: true, r: io.MultiReader(bytes.NewReader(bytes.Clone(leftover)), nc)}
}

// tokenJSON encodes tk.
func tokenJSON(tk token) []byte {
	b, _ := json.Marshal(tk)
	return b
}

// send writes one packet (one masked binary frame on WebSocket).
func (c *client) send(op int32, body []byte) int32 {
	c.t.Helper()
	c.seq++
	p := protocol.Packet{Ver: 1, Op: op, Seq: c.seq, Body: body}
	c.write(p.Append(nil))
	return c.seq
}

// write writes b raw on TCP, or as one masked binary frame on WebSocket.
func (c *client) write(b []byte) {
	c.t.Helper()
	if c.ws {
		b = websocket.AppendMaskedFrame(nil, websocket.OpBinary, [4]byte{1, 2, 3, 4}, b)
	}
	c.writeRaw(b)
}

// writeRaw writes b as is.
func (c *client) writeRaw(b []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(waitTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// auth authenticates with tk and checks the op-8 reply.
func (c *client) auth(tk token) {
	c.t.Helper()
	seq := c.send(protocol.OpAuth, tokenJSON(tk))
	p := c.read()
	if p.Op != protocol.OpAuthReply || p.Seq != seq || len(p.Body) != 0 {
		c.t.Fatalf("auth reply = %+v, want op 8 seq %d empty body", p, seq)
	}
}

// readFull reads exactly n bytes of the stream (TCP) within waitTimeout.
func (c *client) readFull(n int) ([]byte, error) {
	b := make([]byte, n)
	c.nc.SetReadDeadline(time.Now().Add(waitTimeout))
	_, err := io.ReadFull(c.r, b)
	return b, err
}

// readFrame reads one WebSocket frame from the server and returns its
// opcode, fin bit and payload.
func (c *client) readFrame() (websocket.Opcode, bool, []byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(waitTimeout))
	var scratch [websocket.MaxFrameHeaderSize]byte
	h, err := websocket.ReadFrameHeader(c.r, &scratch)
	if err != nil {
		return 0, false, nil, err
	}
	if h.Masked {
		return 0, false, nil, errors.New("masked server frame")
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(c.r, payload); err != nil {
		return 0, false, nil, err
	}
	return h.Op, h.Fin, payload, nil
}

// readMessage returns the next server message: on TCP the next packet's
// raw bytes, on WebSocket the payload of the next binary frame.
func (c *client) readMessage() ([]byte, error) {
	if c.ws {
		op, fin, payload, err := c.readFrame()
		if err != nil {
			return nil, err
		}
		if op != websocket.OpBinary || !fin {
			return nil, fmt.Errorf("frame op %v fin %v, want a final binary frame", op, fin)
		}
		return payload, nil
	}
	hdr, err := c.readFull(protocol.HeaderLen)
	if err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(hdr)) - protocol.HeaderLen
	if n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("bad packet length in %x", hdr)
	}
	body, err := c.readFull(n)
	return append(hdr, body...), err
}

// read returns the next packet (on WebSocket the frame's single packet).
func (c *client) read() protocol.Packet {
	c.t.Helper()
	msg, err := c.readMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var p protocol.Packet
	if err := p.Decode(msg, 1<<20); err != nil {
		c.t.Fatalf("decode %x: %v", msg, err)
	}
	return p
}

// readPush returns the next pushed packet: on TCP the next packet, on
// WebSocket the single inner packet of the next op-9 frame.
func (c *client) readPush() protocol.Packet {
	c.t.Helper()
	p := c.read()
	if !c.ws {
		return p
	}
	if p.Op != protocol.OpRaw {
		c.t.Fatalf("websocket push op %d, want %d", p.Op, protocol.OpRaw)
	}
	inner, rest, err := protocol.NextPacket(p.Body, 1<<20)
	if err != nil || len(rest) != 0 {
		c.t.Fatalf("op-9 body %x: err %v, %d bytes after the first packet", p.Body, err, len(rest))
	}
	return inner
}

// expectClosed checks that the server closes the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(waitTimeout))
	buf := make([]byte, 4096)
	for {
		_, err := c.r.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatal("connection still open")
		}
		return
	}
}

// heartbeat sends a heartbeat and returns the reply's online count.
func (c *client) heartbeat() int32 {
	c.t.Helper()
	seq := c.send(protocol.OpHeartbeat, nil)
	p := c.read()
	if p.Op != protocol.OpHeartbeatReply || p.Seq != seq || len(p.Body) != 4 {
		c.t.Fatalf("heartbeat reply = %+v, want op 3 seq %d and a 4-byte body", p, seq)
	}
	return int32(binary.BigEndian.Uint32(p.Body))
}

// hasLine reports whether the log holds a line containing every part.
func hasLine(log string, parts ...string) bool {
	for line := range strings.SplitSeq(log, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// waitWriter waits until c's writer goroutine has exited.
func waitWriter(c *conn) {
	for {
		c.mu.Lock()
		w := c.writing
		c.mu.Unlock()
		if !w {
			return
		}
		runtime.Gosched()
	}
}
