package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// PlotPoint is one rate of a knee search.
type PlotPoint struct {
	Rate      float64 // offered pushes per second
	Offered   float64 // offered deliveries per second (Rate x receivers); 0: not drawn
	Delivered float64 // deliveries per second
	P99       float64 // p99 latency in milliseconds
	Complete  bool    // every message was delivered
}

// Plot geometry, in SVG user units.
const (
	plotW, plotH               = 720, 440
	plotLeft, plotRight        = 90, 80
	plotTop, plotBottom        = 50, 80
	plotInnerW                 = plotW - plotLeft - plotRight
	plotInnerH                 = plotH - plotTop - plotBottom
	colorDelivered, colorP99   = "#1f77b4", "#d62728"
	colorBound, colorGrid      = "#d62728", "#dddddd"
	colorOffered               = "#999999"
	plotFont                   = `font-family="sans-serif" font-size="12"`
	minP99ms, defaultMaxP99ms  = 0.1, 1000.0
	markerRadius, markerStroke = 4, 2
)

// WritePlot writes an SVG chart of a knee search: delivered messages per
// second (left axis, linear, blue; the offered deliveries dashed grey) and
// p99 latency (right axis, logarithmic, red) against the offered push rate
// (logarithmic), with the p99 bound as a dashed line. Hollow markers are rates where messages were
// missing. It needs no plotting library.
func WritePlot(w io.Writer, title string, pts []PlotPoint, boundMS float64) error {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", plotW, plotH, plotW, plotH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", plotW, plotH)
	fmt.Fprintf(&b, `<text x="%d" y="24" text-anchor="middle" font-family="sans-serif" font-size="15">%s</text>`+"\n", plotW/2, html.EscapeString(title))
	if len(pts) == 0 {
		b.WriteString(`<text x="360" y="210" text-anchor="middle" ` + plotFont + `>no data</text></svg>` + "\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	xs := newLogScale(pts, plotInnerW)
	maxDelivered := 0.0
	maxP99 := max(boundMS, defaultMaxP99ms/100)
	for _, p := range pts {
		maxDelivered = max(maxDelivered, p.Delivered, p.Offered)
		maxP99 = max(maxP99, p.P99)
	}
	yl := linearAxis(maxDelivered)
	yr := logAxis{lo: math.Log10(minP99ms), hi: math.Ceil(math.Log10(maxP99))}
	plotFrame(&b, xs, yl, yr)
	if boundMS > 0 {
		y := plotTop + yr.pos(boundMS)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-dasharray="6,4"/>`+"\n", plotLeft, y, plotLeft+plotInnerW, y, colorBound)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="middle" fill="%s" %s>p99 bound %s ms</text>`+"\n", plotLeft+plotInnerW*3/4, y-4, colorBound, plotFont, trimFloat(boundMS))
	}
	plotOffered(&b, pts, xs, yl)
	plotSeries(&b, pts, xs, func(p PlotPoint) float64 { return plotTop + yl.pos(p.Delivered) }, colorDelivered)
	plotSeries(&b, pts, xs, func(p PlotPoint) float64 { return plotTop + yr.pos(max(p.P99, minP99ms)) }, colorP99)
	plotLegend(&b)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// logScale maps the x values (positive) to [0, width] on a log scale.
type logScale struct {
	lo, hi float64 // log10 of the extremes
	width  float64
	ticks  []float64
}

// newLogScale returns the scale of the points' rates, with ticks at them.
func newLogScale(pts []PlotPoint, width float64) logScale {
	lo, hi := math.Inf(1), math.Inf(-1)
	var ticks []float64
	for _, p := range pts {
		v := math.Max(p.Rate, 1e-3)
		lo, hi = math.Min(lo, math.Log10(v)), math.Max(hi, math.Log10(v))
		ticks = append(ticks, v)
	}
	pad := math.Max((hi-lo)*0.08, 0.1)
	return logScale{lo: lo - pad, hi: hi + pad, width: width, ticks: ticks}
}

func (s logScale) pos(v float64) float64 {
	return (math.Log10(math.Max(v, 1e-3)) - s.lo) / (s.hi - s.lo) * s.width
}

// linAxis is a linear y axis from 0 to top with tick step.
type linAxis struct{ top, step float64 }

// linearAxis returns an axis from 0 to a round value above maxV.
func linearAxis(maxV float64) linAxis {
	if maxV <= 0 {
		maxV = 1
	}
	raw := maxV / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return linAxis{top: math.Ceil(maxV/step) * step, step: step}
}

// pos returns the distance from the top of the plot area of v.
func (a linAxis) pos(v float64) float64 { return plotInnerH * (1 - v/a.top) }

// logAxis is a logarithmic y axis over decades lo..hi (log10).
type logAxis struct{ lo, hi float64 }

func (a logAxis) pos(v float64) float64 {
	return plotInnerH * (1 - (math.Log10(v)-a.lo)/(a.hi-a.lo))
}

// plotFrame draws the grid, axes, ticks and labels.
func plotFrame(b *strings.Builder, xs logScale, yl linAxis, yr logAxis) {
	x0, x1, y0, y1 := plotLeft, plotLeft+plotInnerW, plotTop, plotTop+plotInnerH
	for v := 0.0; v <= yl.top+yl.step/2; v += yl.step {
		y := float64(plotTop) + yl.pos(v)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", x0, y, x1, y, colorGrid)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" fill="%s" %s>%s</text>`+"\n", x0-6, y+4, colorDelivered, plotFont, siString(v))
	}
	for d := yr.lo; d <= yr.hi+1e-9; d++ {
		y := float64(plotTop) + yr.pos(math.Pow(10, d))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" fill="%s" %s>%s</text>`+"\n", x1+6, y+4, colorP99, plotFont, trimFloat(math.Pow(10, d)))
	}
	for _, v := range xs.ticks {
		x := float64(plotLeft) + xs.pos(v)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`+"\n", x, y0, x, y1, colorGrid)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" %s>%s</text>`+"\n", x, y1+18, plotFont, trimFloat(v))
	}
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black"/>`+"\n", x0, y0, plotInnerW, plotInnerH)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" %s>offered push rate (messages/s, log scale)</text>`+"\n", plotLeft+plotInnerW/2, y1+38, plotFont)
	fmt.Fprintf(b, `<text transform="translate(18 %d) rotate(-90)" text-anchor="middle" fill="%s" %s>deliveries/s (messages x receivers)</text>`+"\n", plotTop+plotInnerH/2, colorDelivered, plotFont)
	fmt.Fprintf(b, `<text transform="translate(%d %d) rotate(90)" text-anchor="middle" fill="%s" %s>p99 latency (ms, log scale)</text>`+"\n", plotW-14, plotTop+plotInnerH/2, colorP99, plotFont)
}

// plotSeries draws one series as a polyline with markers; incomplete
// points get hollow markers.
func plotSeries(b *strings.Builder, pts []PlotPoint, xs logScale, y func(PlotPoint) float64, color string) {
	var coords []string
	for _, p := range pts {
		coords = append(coords, fmt.Sprintf("%.1f,%.1f", float64(plotLeft)+xs.pos(p.Rate), y(p)))
	}
	fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(coords, " "), color)
	for i, p := range pts {
		fill := color
		if !p.Complete {
			fill = "white"
		}
		xy := strings.Split(coords[i], ",")
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="%d" fill="%s" stroke="%s" stroke-width="%d"/>`+"\n", xy[0], xy[1], markerRadius, fill, color, markerStroke)
	}
}

// plotOffered draws the offered deliveries per second as a dashed line.
func plotOffered(b *strings.Builder, pts []PlotPoint, xs logScale, yl linAxis) {
	var coords []string
	for _, p := range pts {
		if p.Offered > 0 {
			coords = append(coords, fmt.Sprintf("%.1f,%.1f", float64(plotLeft)+xs.pos(p.Rate), plotTop+yl.pos(p.Offered)))
		}
	}
	if len(coords) > 0 {
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5" stroke-dasharray="4,3"/>`+"\n", strings.Join(coords, " "), colorOffered)
	}
}

// plotLegend draws the legend in one row under the plot.
func plotLegend(b *strings.Builder) {
	x, y := plotLeft, plotH-14
	fmt.Fprintf(b, `<circle cx="%d" cy="%d" r="4" fill="%s"/><text x="%d" y="%d" %s>delivered/s</text>`+"\n", x+4, y-4, colorDelivered, x+12, y, plotFont)
	x += 100
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5" stroke-dasharray="4,3"/><text x="%d" y="%d" %s>offered/s</text>`+"\n", x-2, y-4, x+10, y-4, colorOffered, x+14, y, plotFont)
	x += 90
	fmt.Fprintf(b, `<circle cx="%d" cy="%d" r="4" fill="%s"/><text x="%d" y="%d" %s>p99 push-to-receive latency</text>`+"\n", x+4, y-4, colorP99, x+12, y, plotFont)
	x += 190
	fmt.Fprintf(b, `<circle cx="%d" cy="%d" r="4" fill="white" stroke="black"/><text x="%d" y="%d" %s>hollow: messages missing</text>`+"\n", x+4, y-4, x+12, y, plotFont)
}

// siString formats v with a k or M suffix.
func siString(v float64) string {
	switch {
	case v >= 1e6:
		return trimFloat(v/1e6) + "M"
	case v >= 1e3:
		return trimFloat(v/1e3) + "k"
	}
	return trimFloat(v)
}

// trimFloat formats v with at most 3 significant decimals, no trailing
// zeros.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
