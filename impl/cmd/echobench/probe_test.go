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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/echobench"
	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/internal/cli"
	"github.com/echospec/echo/internal/testpeer"
)

// Targets from a file (comments and blank lines left out) and from the
// arguments, flags after them too; -json - is the list alone on stdout,
// one object a target.
func TestProbeTargetsFileAndJSON(t *testing.T) {
	echo := testpeer.Serve(t, &tcpecho.Server{Logger: slog.New(slog.DiscardHandler)})
	closed := testpeer.Refusing(t)
	file := filepath.Join(t.TempDir(), "targets")
	require.NoError(t, os.WriteFile(file, []byte("# the policy under test\ntcp://"+echo+"=allow\n\ntcp://"+closed+"=deny  # nothing there\n"), 0o600))
	var stdout, stderr strings.Builder
	require.NoError(t, run(context.Background(), []string{"probe", "-targets", file, "tcp://" + echo, "-json", "-"}, nil, &stdout, &stderr))
	var lines []map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout.String()), &lines), stdout.String())
	require.Len(t, lines, 3)
	assert.Equal(t, "tcp://"+echo, lines[0]["target"], "the arguments' targets first")
	assert.Equal(t, "echoed", lines[1]["verdict"])
	assert.Equal(t, "allow", lines[1]["expect"])
	assert.Equal(t, "refused", lines[2]["verdict"])
	for _, l := range lines {
		assert.Contains(t, l, "detail")
		assert.Contains(t, l, "ms")
	}
	assert.Contains(t, stderr.String(), "3 targets: 2 echoed, 1 refused; 0 contradict their expectation", "the table goes to stderr")
}

// A contradicted expectation is an error (exit 1), naming it; a bad
// target is a usage error (exit 2).
func TestProbeExitStatus(t *testing.T) {
	closed := testpeer.Refusing(t)
	err := run(context.Background(), []string{"probe", "tcp://" + closed + "=allow"}, nil, io.Discard, io.Discard)
	require.ErrorIs(t, err, echobench.ErrContradicted)
	require.ErrorContains(t, err, "tcp://"+closed+" wants allow, is refused")
	for _, bad := range [][]string{{"probe"}, {"probe", "db:7"}, {"probe", "tcp://db:7=maybe"}, {"probe", "-retries", "-1", "tcp://db:7"}} {
		err := run(context.Background(), bad, nil, io.Discard, io.Discard)
		assert.ErrorIs(t, err, cli.ErrUsage, "%v", bad)
	}
}
