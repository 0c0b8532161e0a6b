package echobench

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Bound is a latency bound at a percentile, such as p99=5ms.
type Bound struct {
	Percentile float64
	Max        time.Duration
}

// ParseBound reads a bound written as pP=DURATION: "p99=5ms",
// "p99.9=20ms", "p50=500us".
func ParseBound(s string) (Bound, error) {
	name, value, ok := strings.Cut(s, "=")
	p, err := strconv.ParseFloat(strings.TrimPrefix(name, "p"), 64)
	if !ok || !strings.HasPrefix(name, "p") || err != nil || p <= 0 || p > 100 {
		return Bound{}, fmt.Errorf("%q is no bound: write a percentile and a duration, as p99=5ms", s)
	}
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return Bound{}, fmt.Errorf("%q is no bound: %q is no positive duration", s, value)
	}
	return Bound{Percentile: p, Max: d}, nil
}

func (b Bound) String() string { return fmt.Sprintf("p%g=%v", b.Percentile, b.Max) }

// Trial is one rate tried, and what it measured.
type Trial struct {
	Rate   float64
	Result Result
	// Kept says the run sent at least 98% of the messages the rate asked
	// for: a load generator that falls behind measures itself.
	Kept bool
}

// At returns the trial's corrected latency at percentile p.
func (t Trial) At(p float64) time.Duration {
	if t.Result.Latency == nil {
		return 0
	}
	return time.Duration(t.Result.Latency.ValueAtQuantile(p)) * time.Microsecond
}

// Meets says whether the trial kept its rate, without errors, within b.
func (t Trial) Meets(b Bound) bool {
	return t.Kept && t.Result.Errors == 0 && t.Result.Latency != nil && t.Result.Latency.TotalCount() > 0 && t.At(b.Percentile) <= b.Max
}

// trial runs cfg open loop at rate.
func trial(ctx context.Context, cfg Config, rate float64) (Trial, error) {
	cfg.Rate = rate
	res, err := Run(ctx, cfg, nil)
	if err != nil {
		return Trial{}, err
	}
	want := rate * cfg.Duration.Seconds()
	return Trial{Rate: rate, Result: res, Kept: float64(res.Messages) >= 0.98*want}, nil
}

// Ramp runs cfg open loop at each rate from from to to (both included) in
// steps of step, telling report of each trial as it ends.
func Ramp(ctx context.Context, cfg Config, from, to, step float64, report func(Trial)) ([]Trial, error) {
	if from <= 0 || to < from || step <= 0 {
		return nil, configError(fmt.Sprintf("a ramp from %g to %g in steps of %g goes nowhere", from, to, step))
	}
	cfg = cfg.withDefaultDuration()
	var trials []Trial
	for rate := from; rate <= to*(1+1e-9); rate += step {
		t, err := trial(ctx, cfg, rate)
		if err != nil {
			return trials, err
		}
		trials = append(trials, t)
		if report != nil {
			report(t)
		}
	}
	return trials, nil
}

// FindMax searches for the highest rate at which cfg's runs meet b: from
// start it doubles the rate until a run misses, then halves the gap
// between the last rate that met and the first that missed until they are
// within 5% of each other (or 12 trials have run). It returns the best
// trial, its Rate 0 if none met b, and every trial, in the order run.
func FindMax(ctx context.Context, cfg Config, b Bound, start float64, report func(Trial)) (Trial, []Trial, error) {
	return findMax(b, start, func(rate float64) (Trial, error) {
		t, err := trial(ctx, cfg.withDefaultDuration(), rate)
		if err == nil && report != nil {
			report(t)
		}
		return t, err
	})
}

// maxTrials bounds a search: each trial takes a run's duration.
const maxTrials = 12

func findMax(b Bound, start float64, try func(rate float64) (Trial, error)) (Trial, []Trial, error) {
	if start <= 0 {
		return Trial{}, nil, configError("a search starts at a positive rate")
	}
	var best Trial
	var trials []Trial
	lo, hi := 0.0, math.Inf(1) // the highest rate that met b, the lowest that missed
	rate := start
	for len(trials) < maxTrials {
		t, err := try(rate)
		if err != nil {
			return best, trials, err
		}
		trials = append(trials, t)
		if t.Meets(b) {
			lo, best = rate, t
		} else {
			hi = rate
		}
		switch {
		case math.IsInf(hi, 1):
			rate *= 2
		case lo == 0 && hi <= start/1024:
			return best, trials, nil // nothing meets the bound, however slow
		case lo == 0:
			rate = hi / 2
		case hi/lo <= 1.05:
			return best, trials, nil
		default:
			rate = (lo + hi) / 2
		}
	}
	return best, trials, nil
}

// withDefaultDuration fills in the run's duration, for the trials.
func (c Config) withDefaultDuration() Config {
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	return c
}
