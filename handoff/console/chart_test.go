package console

import (
	"regexp"
	"strings"
	"testing"
)

func TestNiceCeil(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{{0, 1}, {-3, 1}, {1, 1}, {1.2, 2}, {3, 5}, {7, 10}, {10, 10}, {11, 20}, {0.3, 0.5}, {480, 500}} {
		if got := niceCeil(tc.in); got != tc.want {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestBarsSVG(t *testing.T) {
	rectRe := regexp.MustCompile(`<rect class="s(\d)" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"><title>([^<]*)</title>`)
	for _, tc := range []struct {
		name    string
		b       bars
		titles  []string // the bars' titles, in order
		heights []string
		marks   []string
	}{
		{
			name: "stacked counts",
			b: bars{Title: "t", Labels: []string{"a", "b"}, Stacked: true, Integer: true, Format: count,
				Series: []series{{"web", []float64{1, 0}}, {"sms", []float64{1, 1}}}},
			// The axis tops at 2: a bar of 1 fills half the 160 px plot.
			titles: []string{"a · web: 1", "a · sms: 1", "b · sms: 1"}, heights: []string{"80.0", "80.0", "80.0"},
			marks: []string{">0<", ">1<", ">2<"},
		},
		{
			name:   "side by side, no half marks for counts",
			b:      bars{Title: "t", Labels: []string{"a"}, Integer: true, Format: count, Series: []series{{"x", []float64{1}}, {"y", []float64{0}}}},
			titles: []string{"a · x: 1"}, heights: []string{"160.0"},
			marks: []string{">0<", ">1<"},
		},
		{
			name:   "escaped names",
			b:      bars{Title: "t", Labels: []string{"<b>"}, Format: percent, Series: []series{{"a&b", []float64{0.5}}}},
			titles: []string{"&lt;b&gt; · a&amp;b: 50%"}, heights: []string{"160.0"},
			marks: []string{">0%<", ">25%<", ">50%<"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svg := string(tc.b.SVG())
			var titles, heights []string
			for _, m := range rectRe.FindAllStringSubmatch(svg, -1) {
				titles, heights = append(titles, m[4]), append(heights, m[3])
			}
			if strings.Join(titles, "|") != strings.Join(tc.titles, "|") || strings.Join(heights, "|") != strings.Join(tc.heights, "|") {
				t.Errorf("bars: %q heights %q, want %q %q", titles, heights, tc.titles, tc.heights)
			}
			axis := regexp.MustCompile(`text-anchor="end">[^<]*<`).FindAllString(svg, -1)
			if len(axis) != len(tc.marks) {
				t.Errorf("axis marks %q, want %q", axis, tc.marks)
			}
			for i, m := range tc.marks {
				if i < len(axis) && !strings.HasSuffix(axis[i], m) {
					t.Errorf("mark %d: %q, want %q", i, axis[i], m)
				}
			}
		})
	}
	if (bars{Format: count}).SVG() != "" || hbars("t", nil, count) != "" {
		t.Error("a chart without data is drawn")
	}
	h := string(hbars("t", []bar{{"<i>una ficha con un título muy largo que no cabe en la columna de la izquierda</i>", 3}, {"otra", 0}}, count))
	if !strings.Contains(h, "&lt;i&gt;una ficha") || !strings.Contains(h, "…</text>") || strings.Count(h, "<rect") != 2 {
		t.Errorf("hbars: %s", h)
	}
}
