package console

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Charts are inline SVG drawn here, on the server: no script, nothing from elsewhere, and
// the console's CSP holds. Colours come from console.css (classes s0…s3); every bar carries
// a <title> with its exact value, which browsers show on hover and screen readers read.

// series is one set of values of a bar chart, one per label.
type series struct {
	Name   string
	Values []float64
}

// bars is a vertical bar chart: one group of bars per label, the series side by side or
// stacked.
type bars struct {
	Title   string
	Labels  []string
	Series  []series
	Stacked bool
	Format  func(float64) string
	// Integer: the values are counts, so the axis marks no half.
	Integer bool
}

const (
	chartW      = 960
	chartH      = 220
	chartLeft   = 56
	chartRight  = 12
	chartTop    = 30
	chartBottom = 30
)

// niceCeil rounds up to 1, 2 or 5 times a power of ten, for the axis.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func esc(s string) string { return html.EscapeString(s) }

// SVG draws the chart.
func (b bars) SVG() template.HTML {
	n := len(b.Labels)
	if n == 0 || len(b.Series) == 0 {
		return ""
	}
	top := 0.0
	for i := range n {
		sum := 0.0
		for _, s := range b.Series {
			if b.Stacked {
				sum += s.Values[i]
			} else {
				sum = math.Max(sum, s.Values[i])
			}
		}
		top = math.Max(top, sum)
	}
	top = niceCeil(top)
	plotW, plotH := float64(chartW-chartLeft-chartRight), float64(chartH-chartTop-chartBottom)
	y := func(v float64) float64 { return chartTop + plotH - plotH*v/top }
	var w strings.Builder
	fmt.Fprintf(&w, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s">`, chartW, chartH, esc(b.Title))
	for j, s := range b.Series {
		x := chartLeft + j*170
		fmt.Fprintf(&w, `<rect class="s%d" x="%d" y="8" width="12" height="12"/><text class="legend" x="%d" y="18">%s</text>`, j%4, x, x+16, esc(s.Name))
	}
	marks := []float64{0, top / 2, top}
	if b.Integer && top/2 != math.Trunc(top/2) {
		marks = []float64{0, top}
	}
	for _, v := range marks {
		fmt.Fprintf(&w, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`,
			chartLeft, chartW-chartRight, y(v), y(v), chartLeft-6, y(v)+4, esc(b.Format(v)))
	}
	band := plotW / float64(n)
	every := (n + 14) / 15
	for i, label := range b.Labels {
		x0 := chartLeft + band*float64(i)
		base := 0.0
		for j, s := range b.Series {
			v := s.Values[i]
			var x, bw, y0, y1 float64
			if b.Stacked {
				bw = band * 0.7
				x, y0, y1 = x0+(band-bw)/2, y(base+v), y(base)
				base += v
			} else {
				bw = band * 0.8 / float64(len(b.Series))
				x, y0, y1 = x0+band*0.1+bw*float64(j), y(v), y(0)
			}
			if v <= 0 {
				continue
			}
			fmt.Fprintf(&w, `<rect class="s%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s · %s: %s</title></rect>`,
				j%4, x, y0, bw, y1-y0, esc(label), esc(s.Name), esc(b.Format(v)))
		}
		if i%every == 0 || i == n-1 {
			fmt.Fprintf(&w, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x0+band/2, chartH-chartBottom+16, esc(label))
		}
	}
	w.WriteString(`</svg>`)
	return template.HTML(w.String())
}

// bar is one row of a horizontal bar chart.
type bar struct {
	Label string
	Value float64
}

// hbars draws a horizontal bar chart: a labelled bar per row, its value at its end.
func hbars(title string, rows []bar, format func(float64) string) template.HTML {
	if len(rows) == 0 {
		return ""
	}
	const rowH, labelW, valueW = 26, 320, 70
	top := 0.0
	for _, r := range rows {
		top = math.Max(top, r.Value)
	}
	if top <= 0 {
		top = 1
	}
	h := rowH*len(rows) + 4
	var w strings.Builder
	fmt.Fprintf(&w, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s">`, chartW, h, esc(title))
	for i, r := range rows {
		y := i*rowH + 2
		label := []rune(r.Label)
		if len(label) > 48 {
			label = append(label[:47], '…')
		}
		bw := float64(chartW-labelW-valueW) * r.Value / top
		fmt.Fprintf(&w, `<text class="axis" x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+17, esc(string(label)))
		fmt.Fprintf(&w, `<rect class="s0" x="%d" y="%d" width="%.1f" height="%d"><title>%s: %s</title></rect>`, labelW, y+4, bw, rowH-8, esc(r.Label), esc(format(r.Value)))
		fmt.Fprintf(&w, `<text class="axis" x="%.1f" y="%d">%s</text>`, float64(labelW)+bw+6, y+17, esc(format(r.Value)))
	}
	w.WriteString(`</svg>`)
	return template.HTML(w.String())
}
