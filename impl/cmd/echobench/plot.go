package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// series is one latency distribution on a chart.
type series struct {
	name string
	h    *hdrhistogram.Histogram // microseconds
}

// plotLatency draws latency by percentile, as HdrHistogram's plotter
// does: the percentile on a log scale of 1/(1-p), so that the tail (99%,
// 99.9%, ...) has room, and the latency in milliseconds. It writes an
// image in the format file's extension names (.svg, .png, .pdf).
func plotLatency(file, title string, all ...series) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "percentile"
	p.Y.Label.Text = "latency (ms)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.ConstantTicks{
		{Value: 1, Label: "0%"}, {Value: 10, Label: "90%"}, {Value: 100, Label: "99%"},
		{Value: 1000, Label: "99.9%"}, {Value: 10000, Label: "99.99%"}, {Value: 100000, Label: "99.999%"},
	}
	p.Add(plotter.NewGrid())
	colors := []color.Color{color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}}
	for i, s := range all {
		if s.h == nil || s.h.TotalCount() == 0 {
			continue
		}
		line, err := plotter.NewLine(percentilePoints(s.h))
		if err != nil {
			return fmt.Errorf("plot %s: %w", s.name, err)
		}
		line.Color = colors[i%len(colors)]
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(s.name, line)
	}
	// Always as far as 99.9%, so that charts of short runs compare with
	// those of long ones.
	p.X.Min, p.X.Max = 1, max(p.X.Max, 1000)
	p.Legend.Top, p.Legend.Left = true, true
	if err := p.Save(8*vg.Inch, 4.5*vg.Inch, file); err != nil {
		return fmt.Errorf("write -plot %s: %w", file, err)
	}
	return nil
}

// percentilePoints are h's latencies in milliseconds against 1/(1-p), at
// the percentiles HdrHistogram's own distribution print uses.
func percentilePoints(h *hdrhistogram.Histogram) plotter.XYs {
	var xys plotter.XYs
	for _, b := range h.CumulativeDistributionWithTicks(5) {
		x := 1 / (1 - b.Quantile/100)
		if math.IsInf(x, 0) || math.IsNaN(x) {
			continue // the 100th percentile is the max: off the log scale
		}
		xys = append(xys, plotter.XY{X: x, Y: float64(b.ValueAt) / 1000})
	}
	return xys
}

// caseFile is -plot's file for one -compare case: the case's name in the
// file name, so that each case has its chart.
func caseFile(file, name string) string {
	ext := filepath.Ext(file)
	slug := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '-'
	}, name)
	for strings.Contains(slug, "--") {
		slug = strings.ReplaceAll(slug, "--", "-")
	}
	return strings.TrimSuffix(file, ext) + "-" + strings.Trim(slug, "-") + ext
}
