package echobench

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
)

// Two runs' reports, written and read back as JSON, merge into what one
// run over both would report: counts and rates summed, percentiles those
// of the two histograms added.
func TestMergeOfTwoRunsIsTheirHistogramsAdded(t *testing.T) {
	var results []Result
	var reports []Report
	for _, rate := range []float64{500, 1500} {
		addr := ours(t, tcpecho.FramingStream)
		started := time.Now()
		res, err := Run(context.Background(), Config{Addr: addr, Conns: 2, Rate: rate, Duration: 500 * time.Millisecond}, nil)
		require.NoError(t, err)
		rep, err := NewReport(res, started)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, WriteReport(&buf, rep))
		back, err := ReadReport(&buf)
		require.NoError(t, err)
		results, reports = append(results, res), append(reports, back)
	}
	merged, err := Merge(reports...)
	require.NoError(t, err)

	sum := newHistogram()
	sum.Merge(results[0].Latency)
	sum.Merge(results[1].Latency)
	assert.Equal(t, 2, merged.Machines)
	assert.Equal(t, 4, merged.Config.Conns)
	assert.InDelta(t, 2000, merged.Config.Rate, 0)
	assert.Equal(t, results[0].RoundTrips+results[1].RoundTrips, merged.RoundTrips)
	assert.Equal(t, sum.TotalCount(), merged.Latency.Count)
	for _, p := range []struct {
		q    float64
		got  int64
		name string
	}{{50, merged.Latency.P50, "p50"}, {90, merged.Latency.P90, "p90"}, {99, merged.Latency.P99, "p99"}, {99.9, merged.Latency.P999, "p99.9"}} {
		assert.Equal(t, sum.ValueAtQuantile(p.q), p.got, p.name)
	}
	assert.Equal(t, sum.Max(), merged.Latency.Max)
	assert.InDelta(t, results[0].RoundTripsPerSec()+results[1].RoundTripsPerSec(), merged.RoundTripsPerSecond, 1e-6)
	require.NotNil(t, merged.Uncorrected)
	assert.Equal(t, results[0].Uncorrected.TotalCount()+results[1].Uncorrected.TotalCount(), merged.Uncorrected.Count)
}

func TestReportsOfDifferentRunsDoNotMerge(t *testing.T) {
	a := Report{Schema: ReportSchema, Machines: 1, Config: ReportConfig{Proto: TCP, Mode: PingPong, Size: 128}}
	b := a
	b.Config.Size = 64
	_, err := Merge(a, b)
	require.ErrorIs(t, err, ErrMerge)
	_, err = Merge()
	require.ErrorIs(t, err, ErrMerge)
	_, err = ReadReport(bytes.NewBufferString(`{"schema":"other/9"}`))
	assert.Error(t, err)
}
