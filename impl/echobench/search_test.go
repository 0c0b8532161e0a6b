package echobench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseBound(t *testing.T) {
	b, err := ParseBound("p99.9=20ms")
	require.NoError(t, err)
	assert.Equal(t, Bound{Percentile: 99.9, Max: 20 * time.Millisecond}, b)
	for _, bad := range []string{"p99", "99=5ms", "p0=5ms", "p101=5ms", "p99=fast", "p99=-1ms"} {
		_, err := ParseBound(bad)
		assert.Error(t, err, bad)
	}
}

// A service whose p99 stays at 1 ms up to 3,000 messages a second and
// goes to 50 ms past it: the search ends within 5% below 3,000, having
// tried rates on both sides, in few trials.
func TestFindMaxHomesInOnTheKnee(t *testing.T) {
	knee := 3000.0
	try := func(rate float64) (Trial, error) {
		h := newHistogram()
		v := int64(1000)
		if rate > knee {
			v = 50000
		}
		for range 100 {
			h.RecordValue(v)
		}
		return Trial{Rate: rate, Kept: true, Result: Result{Latency: h}}, nil
	}
	best, trials, err := findMax(Bound{Percentile: 99, Max: 5 * time.Millisecond}, 1000, try)
	require.NoError(t, err)
	assert.LessOrEqual(t, best.Rate, knee)
	assert.GreaterOrEqual(t, best.Rate, knee*0.95)
	assert.LessOrEqual(t, len(trials), maxTrials)
	var above bool
	for _, tr := range trials {
		above = above || tr.Rate > knee
	}
	assert.True(t, above, "it tried past the knee")
}

// A trial that could not keep its rate does not meet a bound, however
// fast its echoes came.
func TestATrialThatFellBehindDoesNotMeet(t *testing.T) {
	h := newHistogram()
	h.RecordValue(10)
	b := Bound{Percentile: 99, Max: time.Millisecond}
	assert.True(t, Trial{Kept: true, Result: Result{Latency: h}}.Meets(b))
	assert.False(t, Trial{Kept: false, Result: Result{Latency: h}}.Meets(b))
	assert.False(t, Trial{Kept: true, Result: Result{Latency: h, Errors: 1}}.Meets(b))
}

func TestNothingMeetsTheBound(t *testing.T) {
	try := func(rate float64) (Trial, error) {
		h := newHistogram()
		h.RecordValue(1_000_000)
		return Trial{Rate: rate, Kept: true, Result: Result{Latency: h}}, nil
	}
	best, trials, err := findMax(Bound{Percentile: 99, Max: time.Millisecond}, 1000, try)
	require.NoError(t, err)
	assert.Zero(t, best.Rate)
	assert.LessOrEqual(t, len(trials), maxTrials)
}
