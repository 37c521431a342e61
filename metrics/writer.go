package metrics

import (
	"math"
	"strconv"
	"strings"
)

// Type is the type of a metric family.
type Type string

// Types of metric families.
const (
	TypeCounter   Type = "counter"
	TypeGauge     Type = "gauge"
	TypeHistogram Type = "histogram"
)

// Writer builds a scrape in the text exposition format. Families are
// written in the order their first sample (or Family call) comes; a
// family's samples must be written together. The zero Writer is ready to
// use. It is not safe for concurrent use.
type Writer struct {
	b    []byte
	last string // the family whose HELP and TYPE were written last
}

// Family starts the family name of type typ: it writes its # HELP and
// # TYPE lines unless it is the family being written.
func (w *Writer) Family(name string, typ Type, help string) {
	if name == w.last {
		return
	}
	w.last = name
	w.b = append(w.b, "# HELP "...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ' ')
	w.b = appendEscaped(w.b, help, false)
	w.b = append(w.b, "\n# TYPE "...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ' ')
	w.b = append(w.b, typ...)
	w.b = append(w.b, '\n')
}

// Sample writes one sample of the current family: name (the family's,
// or with a suffix such as _bucket), value and labels as name, value
// pairs. An odd trailing label name is ignored.
func (w *Writer) Sample(name string, value float64, labels ...string) {
	w.b = append(w.b, name...)
	if len(labels) >= 2 {
		w.b = append(w.b, '{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = append(w.b, labels[i]...)
			w.b = append(w.b, `="`...)
			w.b = appendEscaped(w.b, labels[i+1], true)
			w.b = append(w.b, '"')
		}
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ' ')
	w.b = appendValue(w.b, value)
	w.b = append(w.b, '\n')
}

// Counter writes a family of one counter sample.
func (w *Writer) Counter(name, help string, v uint64, labels ...string) {
	w.Family(name, TypeCounter, help)
	w.Sample(name, float64(v), labels...)
}

// Gauge writes a family of one gauge sample.
func (w *Writer) Gauge(name, help string, v float64, labels ...string) {
	w.Family(name, TypeGauge, help)
	w.Sample(name, v, labels...)
}

// Histogram writes snapshot s as a histogram family name, its values
// scaled by scale (e.g. 1e-9 to turn nanoseconds into seconds).
func (w *Writer) Histogram(name, help string, s Snapshot, scale float64) {
	w.Family(name, TypeHistogram, help)
	var cum uint64
	for i, ub := range s.Bounds {
		cum += s.Counts[i]
		w.Sample(name+"_bucket", float64(cum), "le", formatFloat(float64(ub)*scale))
	}
	w.Sample(name+"_bucket", float64(s.Count), "le", "+Inf")
	w.Sample(name+"_sum", float64(s.Sum)*scale)
	w.Sample(name+"_count", float64(s.Count))
}

// Bytes returns what was written. It aliases the Writer's buffer.
func (w *Writer) Bytes() []byte { return w.b }

// appendValue appends v as the exposition format writes a float.
func appendValue(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// formatFloat formats a bucket bound.
func formatFloat(v float64) string { return string(appendValue(nil, v)) }

// appendEscaped appends s escaped for a HELP line (backslash and newline)
// or, with quote, for a label value (also the double quote).
func appendEscaped(b []byte, s string, quote bool) []byte {
	if !strings.ContainsAny(s, "\\\n\"") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}
