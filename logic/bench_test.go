package logic

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/goimx/goim/job/jobrpc"
	"github.com/goimx/goim/logic/logicrpc"
)

// nopJob accepts every push and keeps nothing.
type nopJob struct{}

func (nopJob) Push(context.Context, *jobrpc.PushMsg) error { return nil }

// discardWriter is a reusable http.ResponseWriter that drops the body.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// benchEnv is a Logic with n sessions (mid i, key "k<i>") spread over 4
// comets and one in-process job that accepts everything.
func benchEnv(b testing.TB, n int) *Logic {
	l, err := New(Config{DialJob: func(logicrpc.NodeInfo) (jobrpc.Service, error) { return nopJob{}, nil }}, discardLogger())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	ctx := context.Background()
	if _, err := l.Report(ctx, &logicrpc.ReportReq{Node: logicrpc.NodeInfo{ID: "j1", Kind: logicrpc.KindJob, RPCAddr: "x:1"}}); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		s := Session{Mid: int64(i), Key: fmt.Sprint("k", i), Server: fmt.Sprint("c", i%4), ConnID: uint64(i)}
		if err := l.sessions.Put(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	return l
}

// pushRequest is a reusable push request whose body is rewound by reset.
type pushRequest struct {
	req  *http.Request
	body *bytes.Reader
	msg  []byte
}

func newPushRequest(target string, msg []byte) *pushRequest {
	p := &pushRequest{body: bytes.NewReader(msg), msg: msg}
	p.req = httptest.NewRequest(http.MethodPost, target, nil)
	p.req.ContentLength = int64(len(msg))
	p.req.Body = readerBody{p.body}
	return p
}

// reset rewinds the body for the next request.
func (p *pushRequest) reset() {
	p.body.Reset(p.msg)
}

// readerBody is a request body over a reusable reader (io.NopCloser would
// allocate per request).
type readerBody struct{ *bytes.Reader }

// Close does nothing.
func (readerBody) Close() error { return nil }

func BenchmarkHTTPPushKeys(b *testing.B) {
	l := benchEnv(b, 10000)
	h := l.Handler()
	p := newPushRequest("/goim/push/keys?operation=1000&keys=k1&keys=k2&keys=k3&keys=k4&keys=k5", make([]byte, 256))
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		p.reset()
		h.ServeHTTP(w, p.req)
	}
	if w.status != http.StatusOK {
		b.Fatalf("status %d", w.status)
	}
}

func BenchmarkHTTPPushRoom(b *testing.B) {
	l := benchEnv(b, 0)
	h := l.Handler()
	p := newPushRequest("/goim/push/room?operation=1000&type=live&room=1000", make([]byte, 256))
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		p.reset()
		h.ServeHTTP(w, p.req)
	}
}

// BenchmarkHTTPPushKeysRecorder includes httptest's request and recorder
// costs, for comparison.
func BenchmarkHTTPPushKeysRecorder(b *testing.B) {
	l := benchEnv(b, 10000)
	h := l.Handler()
	msg := make([]byte, 256)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/goim/push/keys?operation=1000&keys=k1&keys=k2", bytes.NewReader(msg))
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

func BenchmarkSessionLookupKeys(b *testing.B) {
	l := benchEnv(b, 100000)
	keys := []string{"k1", "k500", "k99999", "nope"}
	dst := make([]Route, 0, 8)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = l.sessions.AppendByKeys(ctx, dst[:0], keys)
	}
}

func BenchmarkSessionLookupMids(b *testing.B) {
	l := benchEnv(b, 100000)
	mids := []int64{1, 500, 99999, -1}
	dst := make([]Route, 0, 8)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = l.sessions.AppendByMids(ctx, dst[:0], mids)
	}
}

func BenchmarkSessionPutDelete(b *testing.B) {
	l := benchEnv(b, 100000)
	ctx := context.Background()
	s := Session{Mid: 7, Key: "bench-key", Server: "c1", ConnID: 1}
	b.ReportAllocs()
	for b.Loop() {
		_ = l.sessions.Put(ctx, s)
		_, _ = l.sessions.Delete(ctx, s)
	}
}

func BenchmarkParseParams(b *testing.B) {
	var p params
	b.ReportAllocs()
	for b.Loop() {
		p.reset()
		_ = parseParams("operation=1000&keys=k1&keys=k2&keys=k3&mids=1,2,3", &p)
	}
}

func BenchmarkPickJob(b *testing.B) {
	l := benchEnv(b, 0)
	for i := range 8 {
		_, _ = l.Report(context.Background(), &logicrpc.ReportReq{Node: logicrpc.NodeInfo{ID: fmt.Sprint("j", i), Kind: logicrpc.KindJob}})
	}
	now := l.cfg.Now()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = l.reg.pickJob("live://1000", now)
	}
}
