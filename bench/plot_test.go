package bench

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestWritePlot checks that the plot is well-formed XML with one marker
// per point and series, hollow markers for incomplete points, and the
// bound line.
func TestWritePlot(t *testing.T) {
	pts := []PlotPoint{
		{Rate: 10, Delivered: 100000, P99: 3, Complete: true},
		{Rate: 20, Delivered: 200000, P99: 5, Complete: true},
		{Rate: 50, Delivered: 480000, P99: 900, Complete: true},
		{Rate: 100, Delivered: 520000, P99: 4000, Complete: false},
	}
	var b strings.Builder
	if err := WritePlot(&b, "knee <test> & co", pts, 1000); err != nil {
		t.Fatal(err)
	}
	elems := countElements(t, b.String())
	if elems["svg"] != 1 || elems["polyline"] != 2 || elems["circle"] != 2*len(pts)+3 {
		t.Errorf("elements %v", elems)
	}
	if n := strings.Count(b.String(), `fill="white" stroke=`); n != 2+1 { // two hollow markers, one legend sample
		t.Errorf("%d hollow markers", n)
	}
	if !strings.Contains(b.String(), "p99 bound 1000 ms") || !strings.Contains(b.String(), "knee &lt;test&gt; &amp; co") {
		t.Errorf("bound or escaped title missing:\n%s", b.String())
	}
}

func TestWritePlotEdges(t *testing.T) {
	for _, pts := range [][]PlotPoint{nil, {{Rate: 5}}, {{Rate: 1, Delivered: 1, P99: 0.001}}} {
		var b strings.Builder
		if err := WritePlot(&b, "t", pts, 0); err != nil {
			t.Fatal(err)
		}
		countElements(t, b.String())
		if strings.Contains(b.String(), "NaN") || strings.Contains(b.String(), "Inf") {
			t.Errorf("%v: non-numbers in the plot:\n%s", pts, b.String())
		}
	}
}

// countElements parses svg as XML and counts its elements by name.
func countElements(t *testing.T, svg string) map[string]int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	counts := map[string]int{}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return counts
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			counts[se.Name.Local]++
		}
	}
}

func TestTrimFloat(t *testing.T) {
	for v, want := range map[float64]string{1: "1", 0.5: "0.5", 1000: "1000", 0.1234: "0.123", 2.50: "2.5"} {
		if got := trimFloat(v); got != want {
			t.Errorf("trimFloat(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{500: "500", 2000: "2k", 2500000: "2.5M"} {
		if got := siString(v); got != want {
			t.Errorf("siString(%v) = %q, want %q", v, got, want)
		}
	}
}
