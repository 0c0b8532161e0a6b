package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/echobench"
	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/internal/testpeer"
)

// -mode watch against a named server: the report names it, and -json
// carries the watch's fields.
func TestWatchReportsTheBackendByName(t *testing.T) {
	addr := testpeer.Serve(t, &tcpecho.Server{Identity: "echo-a", Logger: slog.New(slog.DiscardHandler)})
	file := filepath.Join(t.TempDir(), "watch.json")
	var text strings.Builder
	require.NoError(t, run(context.Background(), []string{"-mode", "watch", "-addr", addr, "-c", "2", "-d", "1s", "-json", file}, nil, &text, io.Discard))
	assert.Contains(t, text.String(), "backends     echo-a 20")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var rep struct {
		Watch map[string]json.RawMessage `json:"watch"`
	}
	require.NoError(t, json.Unmarshal(b, &rep))
	for _, field := range []string{"lost", "longest_gap_ms", "reconnects", "gaps", "backends", "seconds"} {
		assert.Contains(t, rep.Watch, field)
	}
	assert.JSONEq(t, `{"echo-a":20}`, string(rep.Watch["backends"]))
}

// -max-lost and -max-gap are for a watch: elsewhere they are a usage error.
func TestWatchFlagsAreForAWatch(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "127.0.0.1:1", "-max-gap", "1s"}, nil, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-max-gap is for -mode watch")
}

// The timeline draws each backend's echoes a second, named in the legend,
// and shades a gap.
func TestWatchPlotNamesTheBackendsAndShadesTheGaps(t *testing.T) {
	res := echobench.WatchResult{
		Config:   echobench.Config{Proto: "tcp", Addr: "echo:7", Conns: 2, Rate: 20},
		Backends: map[string]int64{"echo-a": 30, "echo-b": 10},
		Seconds: []echobench.WatchSecond{
			{Second: 1, WatchCounts: echobench.WatchCounts{Echoed: 20}, Backends: map[string]int64{"echo-a": 20}},
			{Second: 2, WatchCounts: echobench.WatchCounts{Echoed: 20}, Backends: map[string]int64{"echo-a": 10, "echo-b": 10}},
		},
		Gaps: []echobench.Gap{{Flow: 1, Start: 1200 * time.Millisecond, Length: 300 * time.Millisecond, Cause: echobench.CauseReset}},
	}
	file := filepath.Join(t.TempDir(), "watch.svg")
	require.NoError(t, plotWatch(file, res))
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	svg := string(b)
	assert.Contains(t, svg, "echo-a")
	assert.Contains(t, svg, "echo-b")
	assert.Contains(t, svg, "fill-opacity", "the gap, shaded")
}
