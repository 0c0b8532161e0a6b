package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/echospec/echo/impl/echobench"
	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/internal/cli"
	"github.com/echospec/echo/internal/clitest"
	"github.com/echospec/echo/internal/testpeer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMeasuresAndReports(t *testing.T) {
	addr := testpeer.Serve(t, &tcpecho.Server{Logger: slog.New(slog.DiscardHandler)})
	stdout, stderr := clitest.NewOutput(), clitest.NewOutput()
	err := run(context.Background(), []string{"-addr", addr, "-c", "2", "-line", "-d", "200ms"}, nil, stdout, stderr)
	require.NoError(t, err, stderr.String())
	for _, want := range []string{"tcp pingpong against " + addr, "round trips", "throughput", "latency      p50", "errors       0"} {
		assert.Contains(t, stdout.String(), want)
	}
	assert.Empty(t, stderr.String(), "no progress line when stderr is no terminal")
}

func TestServesTheBaseline(t *testing.T) {
	addr, _, stop := clitest.Serve(t, run, "-serve-baseline", "tcp")
	stdout := clitest.NewOutput()
	require.NoError(t, run(context.Background(), []string{"-addr", addr, "-mode", "stream", "-size", "1048576"}, nil, stdout, io.Discard))
	for _, want := range []string{"sent         ", "echoed       ", "(1048576 bytes checked in", "first echo   ", "errors       0"} {
		assert.Contains(t, stdout.String(), want)
	}
	assert.NotContains(t, stdout.String(), "round trips", "a stream has none")
	require.NoError(t, stop())
}

func TestBadUsage(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		problem string
	}{
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"-c", "0"}, `invalid value "0" for flag -c: 0 is less than 1`},
		{[]string{"-proto", "udp", "-mode", "stream"}, "echobench: UDP has no streams; use pingpong"},
		{[]string{"-compare", "-run", "("}, "invalid value \"(\" for flag -run: error parsing regexp: missing closing ): `(`"},
		{[]string{"-framing", "words"}, `invalid value "words" for flag -framing: framing must be stream, line or fixed`},
		{[]string{"-framing", "stream", "-line"}, "-line and -framing stream disagree: a stream server's messages hold no newline"},
	} {
		clitest.BadUsage(t, run, "echobench", tc.args, tc.problem)
	}
}

func TestVersion(t *testing.T) { clitest.Version(t, run, "echobench") }

// -json writes a report that echobench merge reads back and adds up.
func TestJSONReportsMerge(t *testing.T) {
	addr := testpeer.Serve(t, &tcpecho.Server{Logger: slog.New(slog.DiscardHandler)})
	dir := t.TempDir()
	var files []string
	for i := range 2 {
		file := filepath.Join(dir, fmt.Sprintf("run%d.json", i))
		err := run(context.Background(), []string{"-addr", addr, "-rate", "500", "-d", "300ms", "-json", file}, nil, io.Discard, io.Discard)
		require.NoError(t, err)
		files = append(files, file)
	}
	stdout := clitest.NewOutput()
	hgrm := filepath.Join(dir, "merged.hgrm")
	require.NoError(t, run(context.Background(), append([]string{"merge", "-hgrm", hgrm}, files...), nil, stdout, io.Discard))
	dist, err := os.ReadFile(hgrm)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(dist), " Value\tPercentile\tTotalCount\t1/(1-Percentile)\n"), "HdrHistogram's percentile format: %.80q", dist)
	assert.Regexp(t, `#\[Max     = +[0-9.]+, Total count    = +[0-9]+\]`, string(dist))
	assert.Contains(t, stdout.String(), "2 reports merged")
	assert.Contains(t, stdout.String(), "messages at 1000/s, open loop", "the two rates, summed")
	assert.Contains(t, stdout.String(), "2 connections", "one from each run")
	assert.Contains(t, stdout.String(), "errors       0")
}

// -ramp runs each rate and prints a row for each; -find-max prints the
// rates it tried and what it found; a bad value is a usage error.
func TestRampAndFindMax(t *testing.T) {
	addr := testpeer.Serve(t, &tcpecho.Server{Logger: slog.New(slog.DiscardHandler)})
	stdout := clitest.NewOutput()
	require.NoError(t, run(context.Background(), []string{"-addr", addr, "-d", "200ms", "-ramp", "100:300:100"}, nil, stdout, io.Discard))
	for _, rate := range []string{"| 100 |", "| 200 |", "| 300 |"} {
		assert.Contains(t, stdout.String(), rate)
	}
	stdout = clitest.NewOutput()
	// No loopback echo comes back within a microsecond: the search halves
	// its way down from 100 a second, at little cost, and says so.
	require.NoError(t, run(context.Background(), []string{"-addr", addr, "-d", "100ms", "-find-max", "p99=1us", "-find-start", "100"}, nil, stdout, io.Discard))
	assert.Contains(t, stdout.String(), "| 100 |")
	assert.Contains(t, stdout.String(), "| 50 |")
	assert.Contains(t, stdout.String(), "no rate tried meets p99=1µs")
	for _, bad := range [][]string{{"-ramp", "3:1:1"}, {"-find-max", "p99"}, {"-ramp", "1:2:1", "-find-max", "p99=1ms"}} {
		err := run(context.Background(), append([]string{"-addr", addr}, bad...), nil, io.Discard, io.Discard)
		assert.ErrorIs(t, err, cli.ErrUsage, "%v", bad)
	}
}

// -plot draws the latency by percentile into an SVG; -compare's cases
// each get their own file.
func TestPlot(t *testing.T) {
	addr := testpeer.Serve(t, &tcpecho.Server{Logger: slog.New(slog.DiscardHandler)})
	file := filepath.Join(t.TempDir(), "latency.svg")
	require.NoError(t, run(context.Background(), []string{"-addr", addr, "-rate", "500", "-d", "300ms", "-plot", file}, nil, io.Discard, io.Discard))
	svg, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Contains(t, string(svg), "<svg")
	assert.Contains(t, string(svg), "corrected (from the scheduled send)")
	assert.Contains(t, string(svg), "99.9%")
	assert.Equal(t, filepath.Join("d", "x-TCP-ping-pong-128-B-line-50-conns.svg"), caseFile(filepath.Join("d", "x.svg"), "TCP ping-pong 128 B, line, 50 conns"))
}

// -q with -json - leaves stdout to the report alone and stderr empty: a
// log that joins the two (kubectl logs) is still a report.
func TestQuietJSONOnStdoutIsTheReportAlone(t *testing.T) {
	addr := testpeer.Serve(t, &tcpecho.Server{Logger: slog.New(slog.DiscardHandler)})
	stdout, stderr := clitest.NewOutput(), clitest.NewOutput()
	require.NoError(t, run(context.Background(), []string{"-addr", addr, "-d", "200ms", "-json", "-", "-q"}, nil, stdout, stderr))
	assert.Empty(t, stderr.String())
	rep, err := echobench.ReadReport(strings.NewReader(stdout.String()))
	require.NoError(t, err, "stdout: %.200q", stdout.String())
	assert.NotZero(t, rep.RoundTrips)
}
