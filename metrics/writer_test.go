package metrics

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWriterRoundTrip: what the Writer writes parses back to the same
// families, types, help texts, labels and values.
func TestWriterRoundTrip(t *testing.T) {
	var w Writer
	w.Counter("goim_x_total", "Things done.", 7)
	w.Family("goim_drops_total", TypeCounter, "Drops by reason;\nescaped \\ help.")
	w.Sample("goim_drops_total", 3, "reason", "queue full")
	w.Sample("goim_drops_total", 4, "reason", `a "quoted" \ reason`+"\n")
	w.Gauge("goim_depth", "Queue depth.", 2.5, "comet", "c1", "addr", "127.0.0.1:1")
	h := NewHistogram([]int64{10, 100})
	for _, v := range []int64{-5, 5, 10, 11, 1000} {
		h.Observe(v)
	}
	w.Histogram("goim_latency_seconds", "Latency.", h.Snapshot(), 0.5)

	s, err := Parse(bytes.NewReader(w.Bytes()))
	if err != nil {
		t.Fatalf("%v\n%s", err, w.Bytes())
	}
	types := map[string]Type{"goim_x_total": TypeCounter, "goim_drops_total": TypeCounter, "goim_depth": TypeGauge, "goim_latency_seconds": TypeHistogram}
	for name, typ := range types {
		if s.Types[name] != typ {
			t.Errorf("type of %s: %q, want %q", name, s.Types[name], typ)
		}
	}
	if got := s.Help["goim_drops_total"]; got != "Drops by reason;\nescaped \\ help." {
		t.Errorf("help %q", got)
	}
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"goim_x_total", nil, 7},
		{"goim_drops_total", []string{"reason", "queue full"}, 3},
		{"goim_drops_total", []string{"reason", `a "quoted" \ reason` + "\n"}, 4},
		{"goim_depth", []string{"comet", "c1", "addr", "127.0.0.1:1"}, 2.5},
		{"goim_latency_seconds_bucket", []string{"le", "5"}, 3}, // -5 (as 0), 5, 10
		{"goim_latency_seconds_bucket", []string{"le", "50"}, 4},
		{"goim_latency_seconds_bucket", []string{"le", "+Inf"}, 5},
		{"goim_latency_seconds_count", nil, 5},
		{"goim_latency_seconds_sum", nil, (0 + 5 + 10 + 11 + 1000) * 0.5},
	}
	for _, tt := range tests {
		got, ok := s.Value(tt.name, tt.labels...)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %v, %v; want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	if n := len(s.Family("goim_latency_seconds")); n != 5 {
		t.Errorf("histogram family has %d samples, want 5", n)
	}
}

// TestParseRejects: malformed scrapes are errors wrapping ErrSyntax.
func TestParseRejects(t *testing.T) {
	for _, in := range []string{
		"goim_x",
		"goim_x abc",
		"9x 1",
		`goim_x{a="b} 1`,
		`goim_x{a="b",a="c"} 1`,
		`goim_x{a=b} 1`,
		`goim_x{a="\q"} 1`,
		"goim_x 1 2 3",
		"goim_x 1 notatime",
		"# TYPE goim_x counter\n# TYPE goim_x gauge",
		"# TYPE goim_x sometype",
		"# TYPE goim_h histogram\ngoim_h 1",
	} {
		if _, err := Parse(strings.NewReader(in)); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want ErrSyntax", in, err)
		}
	}
}

// TestHandler: the handler serves our series and the Go runtime's, all
// typed, and refuses POST.
func TestHandler(t *testing.T) {
	h := Handler(func(w *Writer) { w.Counter("goim_test_total", "A test counter.", 42) })
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type %q", ct)
	}
	s, err := Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := s.Value("goim_test_total"); !ok || v != 42 {
		t.Errorf("goim_test_total = %v, %v", v, ok)
	}
	if v, ok := s.Value("go_goroutines"); !ok || v < 1 {
		t.Errorf("go_goroutines = %v, %v", v, ok)
	}
	if s.Types["go_goroutines"] != TypeGauge {
		t.Errorf("go_goroutines has type %q", s.Types["go_goroutines"])
	}
	resp, err = http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}

// FuzzParse: Parse never panics, and what it accepts it accepts again
// after being written back by a Writer.
func FuzzParse(f *testing.F) {
	f.Add("# HELP a_total x\n# TYPE a_total counter\na_total{r=\"q\\\"\"} 1 123\n")
	f.Add("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_sum 2.5\nh_count 3\n")
	f.Add("x{} NaN\ny -Inf\n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		var w Writer
		for _, smp := range s.Samples {
			var labels []string
			for k, v := range smp.Labels {
				labels = append(labels, k, v)
			}
			w.Sample(smp.Name, smp.Value, labels...)
		}
		back, err := Parse(bytes.NewReader(w.Bytes()))
		if err != nil {
			t.Fatalf("rewritten scrape does not parse: %v\n%s", err, w.Bytes())
		}
		if len(back.Samples) != len(s.Samples) {
			t.Fatalf("%d samples, then %d", len(s.Samples), len(back.Samples))
		}
	})
}

// BenchmarkHistogramObserve measures the per-message cost of a latency
// observation, with goroutines observing at once.
func BenchmarkHistogramObserve(b *testing.B) {
	h := NewHistogram(LatencyBounds())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		v := int64(0)
		for pb.Next() {
			v += 977
			h.Observe(v % 3e9)
		}
	})
}
