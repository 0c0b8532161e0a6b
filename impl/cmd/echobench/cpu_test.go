package main

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The CPU time read from /proc grows with the work this process does.
func TestProcessCPUCountsThisProcesssWork(t *testing.T) {
	before, err := processCPU(os.Getpid())
	require.NoError(t, err)
	spins := 0
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); spins++ {
		_ = spins
	}
	after, err := processCPU(os.Getpid())
	require.NoError(t, err)
	assert.Greater(t, after, before, "300 ms of spinning shows")
	_, err = processCPU(-1)
	assert.Error(t, err)
}

// Every load offers 128-byte messages at its rate; TCP's end in newlines,
// for the line servers, and UDP's are a watch's.
func TestCPULoadArguments(t *testing.T) {
	assert.Equal(t, []string{"-addr", "a:1", "-c", "50", "-rate", "20000", "-size", "128", "-json", "-", "-q", "-line"}, cpuLoads[1].args("a:1"))
	assert.Contains(t, udpLoad.args("a:1"), "watch")
}

// A ratio is taken round by round, so that a round in which the machine
// was slower for both servers does not weigh on it.
func TestCPURatioIsTheMedianOfEachRounds(t *testing.T) {
	m := rowCPU{servers: map[string][]float64{
		"a": {10, 20, 11},
		"b": {10, 20, 10},
		"c": {1},
	}}
	ratio, ok := m.ratio("a", "b")
	require.True(t, ok)
	assert.InDelta(t, 1.0, ratio, 1e-9, "rounds 1.0, 1.0, 1.1")
	assert.InDelta(t, 11.0, m.server("a"), 1e-9)
	assert.Equal(t, []float64{10, 20, 11}, m.servers["a"], "the rounds stay in order")
	_, ok = m.ratio("a", "c")
	assert.False(t, ok, "rounds that do not pair")
	_, ok = m.ratio("a", "missing")
	assert.False(t, ok)
}
