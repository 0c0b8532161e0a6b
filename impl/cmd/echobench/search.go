package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/echospec/echo/impl/echobench"
	"github.com/echospec/echo/internal/cli"
)

// parseRamp reads -ramp FROM:TO:STEP.
func parseRamp(s string) (from, to, step float64, err error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("%q is no ramp: write FROM:TO:STEP, as 1000:5000:1000", s)
	}
	var v [3]float64
	for i, p := range parts {
		if v[i], err = strconv.ParseFloat(p, 64); err != nil || v[i] <= 0 {
			return 0, 0, 0, fmt.Errorf("%q is no ramp: %q is no positive rate", s, p)
		}
	}
	if v[1] < v[0] {
		return 0, 0, 0, fmt.Errorf("%q is no ramp: it ends below where it starts", s)
	}
	return v[0], v[1], v[2], nil
}

// trialTable prints trials as a Markdown table, a row as each ends.
type trialTable struct {
	w      io.Writer
	bound  *echobench.Bound
	header bool
}

func (t *trialTable) row(tr echobench.Trial) {
	if !t.header {
		fmt.Fprintln(t.w, "| rate (msg/s) | sent/s | p50 | p99 | p99.9 | errors | kept the rate | meets |")
		fmt.Fprintln(t.w, "|---:|---:|---:|---:|---:|---:|---|---|")
		t.header = true
	}
	meets := ""
	if t.bound != nil {
		meets = map[bool]string{true: "✓", false: "✗"}[tr.Meets(*t.bound)]
	}
	sent := float64(tr.Result.Messages) / tr.Result.Config.Duration.Seconds()
	fmt.Fprintf(t.w, "| %.0f | %.0f | %v | %v | %v | %d | %s | %s |\n", tr.Rate, sent, tr.At(50), tr.At(99), tr.At(99.9), tr.Result.Errors,
		map[bool]string{true: "yes", false: "no"}[tr.Kept], meets)
}

// runSearch runs -ramp or -find-max: a series of open-loop runs, a row each.
func runSearch(ctx context.Context, fs *flag.FlagSet, cfg echobench.Config, ramp, findMax string, start float64, stdout io.Writer) error {
	fmt.Fprintf(stdout, "%s open loop against %s: %d connections, %d bytes, %v a rate, latency from each message's scheduled send\n\n",
		cmp.Or(cfg.Proto, echobench.TCP), cfg.Addr, cfg.Conns, cmp.Or(cfg.Size, echobench.DefaultMessage), cfg.Duration)
	table := &trialTable{w: stdout}
	var err error
	if ramp != "" {
		from, to, step, perr := parseRamp(ramp)
		if perr != nil {
			return cli.Usagef(fs, "invalid value %q for flag -ramp: %v", ramp, perr)
		}
		_, err = echobench.Ramp(ctx, cfg, from, to, step, table.row)
	} else {
		b, perr := echobench.ParseBound(findMax)
		if perr != nil {
			return cli.Usagef(fs, "invalid value %q for flag -find-max: %v", findMax, perr)
		}
		table.bound = &b
		var best echobench.Trial
		best, _, err = echobench.FindMax(ctx, cfg, b, start, table.row)
		if err == nil {
			if best.Rate == 0 {
				fmt.Fprintf(stdout, "\nno rate tried meets %v\n", b)
			} else {
				fmt.Fprintf(stdout, "\nhighest rate that meets %v: %.0f messages/s (p%g %v)\n", b, best.Rate, b.Percentile, best.At(b.Percentile))
			}
		}
	}
	if errors.Is(err, echobench.ErrConfig) {
		return cli.Usagef(fs, "%v", err)
	}
	return err
}
