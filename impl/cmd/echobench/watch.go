package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/echospec/echo/impl/echobench"
	"github.com/echospec/echo/internal/cli"
)

// watchFlags are the flags of -mode watch.
type watchFlags struct {
	gap     *time.Duration
	maxGap  *time.Duration
	maxLost *int
}

func addWatchFlags(fs *flag.FlagSet) watchFlags {
	return watchFlags{
		gap:     cli.Duration(fs, "gap", 0, "with -mode watch: the shortest `silence` in which a flow waits for an echo that counts as a gap (default: four of a flow's send intervals, at least 200ms); a flow's connection that ends is a gap however short"),
		maxGap:  cli.Duration(fs, "max-gap", 0, "with -mode watch: exit 1 if any gap is longer than this `duration`, so that a rollout can be a CI gate (0: no limit)"),
		maxLost: fs.Int("max-lost", -1, "with -mode watch: exit 1 if more than `N` messages were never echoed (-1: no limit)"),
	}
}

// onlyInWatch refuses the watch's flags in another mode.
func (w watchFlags) onlyInWatch(fs *flag.FlagSet) error {
	for _, name := range []string{"gap", "max-gap", "max-lost"} {
		if flagSet(fs, name) {
			return cli.Usagef(fs, "-%s is for -mode watch", name)
		}
	}
	return nil
}

// runWatch runs a watch, prints a row a second and what it saw, writes
// the outputs, and fails when a gate is exceeded or an echo was wrong.
func runWatch(ctx context.Context, fs *flag.FlagSet, cfg echobench.Config, flags watchFlags, out outputs, stdout, stderr io.Writer) error {
	if out.hgrm != "" {
		return cli.Usagef(fs, "-hgrm is for the latency modes; a watch's -json holds its latency")
	}
	if *flags.maxLost < -1 {
		return cli.Usagef(fs, "invalid value %d for flag -max-lost: -1 (no limit) or more", *flags.maxLost)
	}
	cfg.Gap = *flags.gap
	text := stdout
	switch {
	case out.quiet:
		text = io.Discard
	case out.json == "-":
		text = stderr
	}
	res, err := echobench.RunWatch(ctx, cfg, func(r echobench.WatchSecond) { fmt.Fprintln(text, watchRow(r)) })
	if errors.Is(err, echobench.ErrConfig) {
		return cli.Usagef(fs, "%v", err)
	}
	if err != nil {
		return err
	}
	printWatch(text, res)
	if out.json != "" {
		rep, err := echobench.NewWatchReport(res)
		if err != nil {
			return err
		}
		if err := writeReport(out.json, stdout, rep); err != nil {
			return err
		}
	}
	if out.plot != "" {
		if err := plotWatch(out.plot, res); err != nil {
			return err
		}
	}
	return res.Judge(*flags.maxGap, *flags.maxLost)
}

// watchRow is one second's line.
func watchRow(r echobench.WatchSecond) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%5ds  sent %6d  echoed %6d  late %d  out of order %d  duplicated %d  reconnects %d  gaps %d",
		r.Second, r.Sent, r.Echoed, r.Late, r.OutOfOrder, r.Duplicated, r.Reconnects, r.Gaps)
	if r.Silent > 0 {
		fmt.Fprintf(&b, "  silent flows %d, for up to %v", r.Silent, (time.Duration(r.SilenceMS) * time.Millisecond).Round(time.Millisecond))
	}
	for _, cause := range slices.Sorted(maps.Keys(r.Troubles)) {
		fmt.Fprintf(&b, "  %s %d", cause, r.Troubles[cause])
	}
	if s := backendList(r.Backends, r.Unidentified); s != "" {
		b.WriteString("  " + s)
	}
	return b.String()
}

// backendList names the backends with their echoes, by name.
func backendList(backends map[string]int64, unidentified int64) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(backends)) {
		parts = append(parts, fmt.Sprintf("%s %d", name, backends[name]))
	}
	if unidentified > 0 {
		parts = append(parts, fmt.Sprintf("(no identity) %d", unidentified))
	}
	return strings.Join(parts, ", ")
}

// printWatch prints what a watch saw in all.
func printWatch(w io.Writer, r echobench.WatchResult) {
	c := r.Config
	fmt.Fprintf(w, "watch %s against %s: %d flows, %.0f messages/s, %d bytes, %.1fs\n", c.Proto, c.Addr, c.Conns, c.Rate, c.Size, r.Elapsed.Seconds())
	fmt.Fprintf(w, "sent %d  echoed %d  late %d  lost %d  out of order %d  duplicated %d  reconnects %d\n", r.Sent, r.Echoed, r.Late, r.Lost, r.OutOfOrder, r.Duplicated, r.Reconnects)
	if h := r.Latency; h.TotalCount() > 0 {
		us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
		fmt.Fprintf(w, "latency      p50 %v  p99 %v  max %v\n", us(h.ValueAtQuantile(50)), us(h.ValueAtQuantile(99)), us(h.Max()))
	}
	fmt.Fprintf(w, "backends     %s\n", cmp.Or(backendList(r.Backends, r.Unidentified), "none answered"))
	if len(r.Gaps) == 0 {
		fmt.Fprintf(w, "gaps         none\n")
	} else {
		fmt.Fprintf(w, "gaps         %d, the longest %v\n", len(r.Gaps), r.LongestGap().Length.Round(time.Millisecond))
		const most = 20
		for _, g := range r.Gaps[:min(len(r.Gaps), most)] {
			fmt.Fprintf(w, "  %s\n", gapLine(g))
		}
		if len(r.Gaps) > most {
			fmt.Fprintf(w, "  ... and %d more (-json has them all)\n", len(r.Gaps)-most)
		}
	}
	if r.Wrong > 0 {
		fmt.Fprintf(w, "wrong echoes %d; the first: %v\n", r.Wrong, r.FirstWrong)
	}
}

// gapLine is one gap, as a person reads it.
func gapLine(g echobench.Gap) string {
	s := fmt.Sprintf("flow %d at %.3fs: %v, %s", g.Flow, g.Start.Seconds(), g.Length.Round(time.Millisecond), g.Cause)
	if g.Before != "" || g.After != "" {
		s += fmt.Sprintf(" (%s → %s)", cmp.Or(g.Before, "?"), cmp.Or(g.After, "?"))
	}
	if g.Open {
		s += ", still silent at the end"
	}
	return s
}

// plotWatch draws a watch's timeline: echoes a second by backend, and
// each gap shaded over the time it lasted.
func plotWatch(file string, r echobench.WatchResult) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("watch %s against %s: %d flows, %.0f messages/s", r.Config.Proto, r.Config.Addr, r.Config.Conns, r.Config.Rate)
	p.X.Label.Text = "seconds"
	p.Y.Label.Text = "echoes a second"
	p.Add(plotter.NewGrid())
	top := 1.0
	for _, s := range r.Seconds {
		top = max(top, float64(s.Echoed))
	}
	for _, g := range r.Gaps {
		from, to := g.Start.Seconds(), (g.Start + g.Length).Seconds()
		shade, err := plotter.NewPolygon(plotter.XYs{{X: from, Y: 0}, {X: to, Y: 0}, {X: to, Y: top}, {X: from, Y: top}})
		if err != nil {
			return fmt.Errorf("plot a gap: %w", err)
		}
		shade.Color = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0x40}
		shade.Width = 0
		p.Add(shade)
	}
	names := slices.Sorted(maps.Keys(r.Backends))
	colors := []color.Color{color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}}
	count := func(s echobench.WatchSecond, name string) int64 { return s.Backends[name] }
	if r.Unidentified > 0 {
		names = append(names, "(no identity)")
	}
	for i, name := range names {
		var xys plotter.XYs
		for _, s := range r.Seconds {
			n := count(s, name)
			if name == "(no identity)" {
				n = s.Unidentified
			}
			xys = append(xys, plotter.XY{X: float64(s.Second) - 0.5, Y: float64(n)})
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("plot %s: %w", name, err)
		}
		line.Color = colors[i%len(colors)]
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(name, line)
	}
	p.Y.Min, p.X.Min = 0, 0
	p.Legend.Top = true
	if err := p.Save(8*vg.Inch, 4.5*vg.Inch, file); err != nil {
		return fmt.Errorf("write -plot %s: %w", file, err)
	}
	return nil
}
