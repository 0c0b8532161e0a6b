package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The trickle case: what a 16 MiB line costs the server when it arrives 4
// KiB at a time, against the same bytes as 4 KiB lines. A server that
// searched an unfinished line from its start on every read spent seconds
// on it; one that searches each byte once spends about what the lines
// cost.
const (
	trickleCase   = "CPU for a 16 MiB line in 4 KiB pieces, against the same bytes in 4 KiB lines"
	trickleTotal  = 16 << 20
	tricklePiece  = 4 << 10
	trickleTarget = 2.0 // the most ratio that passes
)

// trickleCPU measures the trickle case rounds times, alternating which
// goes first, each run on a server process of its own, and returns the
// median CPU seconds of each and the per-round ratios.
func trickleCPU(ctx context.Context, bin string, rounds int) (line, lines float64, ratios []float64, err error) {
	var lineRuns, linesRuns []float64
	for round := range rounds {
		var x, y float64
		order := []bool{false, true}
		if round%2 == 1 {
			order = []bool{true, false}
		}
		for _, newlines := range order {
			cpu, err := trickleOnce(ctx, filepath.Join(bin, "tcpserver"), newlines)
			if err != nil {
				return 0, 0, nil, err
			}
			if newlines {
				y = cpu
			} else {
				x = cpu
			}
		}
		lineRuns, linesRuns, ratios = append(lineRuns, x), append(linesRuns, y), append(ratios, x/y)
	}
	return median(lineRuns), median(linesRuns), ratios, nil
}

// trickleOnce starts a server whose longest line is 64 MiB, sends it 16
// MiB in 4 KiB pieces, a pause every 16 so that pieces arrive apart,
// reads the echo back, and returns the CPU time the server spent.
func trickleOnce(ctx context.Context, tcpserver string, newlines bool) (float64, error) {
	s, err := startServer(tcpserver, "-listen", "127.0.0.1:0", "-max-line", strconv.Itoa(64<<20), "-max-held", strconv.Itoa(128<<20))
	if err != nil {
		return 0, err
	}
	defer s.stop()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	echoed := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.Discard, c, trickleTotal)
		echoed <- err
	}()
	piece := bytes.Repeat([]byte("x"), tricklePiece)
	if newlines {
		piece[len(piece)-1] = '\n'
	}
	before, err := cpuSeconds(s.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	for i := range trickleTotal / tricklePiece {
		if i == trickleTotal/tricklePiece-1 {
			piece = append(piece[:len(piece)-1:len(piece)-1], '\n')
		}
		if _, err := c.Write(piece); err != nil {
			return 0, err
		}
		if i%16 == 0 {
			time.Sleep(500 * time.Microsecond) // shapes the load; waits for nothing
		}
	}
	if err := <-echoed; err != nil {
		return 0, fmt.Errorf("reading the echo: %w", err)
	}
	after, err := cpuSeconds(s.cmd.Process.Pid)
	return after - before, err
}

// cpuSeconds is the CPU time the threads of process pid have run, from
// the scheduler's own count (nanoseconds, where /proc/PID/stat counts
// ticks of 10 ms).
func cpuSeconds(pid int) (float64, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var ns int64
	for _, t := range tasks {
		stat, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue // the thread has gone
		}
		n, err := strconv.ParseInt(strings.Fields(string(stat))[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("schedstat %q: %w", stat, err)
		}
		ns += n
	}
	return float64(ns) / 1e9, nil
}

// trickleRow prints the trickle case's row and reports whether it holds.
func trickleRow(ctx context.Context, bin string, rounds int, out io.Writer) (bool, error) {
	line, lines, ratios, err := trickleCPU(ctx, bin, rounds)
	if err != nil {
		return false, fmt.Errorf("%s: %w", trickleCase, err)
	}
	ratio := median(slices.Clone(ratios))
	verdict := fmt.Sprintf("≤ %.2f ✓", trickleTarget)
	ok := ratio <= trickleTarget
	if !ok {
		verdict = fmt.Sprintf("≤ %.2f ✗", trickleTarget)
	}
	fmt.Fprintf(out, "| %s | %.0f ms | %.0f ms | %.2f (%.2f–%.2f) | — | — | %s |\n", trickleCase, line*1000, lines*1000, ratio, slices.Min(ratios), slices.Max(ratios), verdict)
	return ok, nil
}
