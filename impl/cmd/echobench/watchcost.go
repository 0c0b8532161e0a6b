package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// watchCase is the row that says what a watch costs its client: the
// echobench process's CPU time a message, in a watch against open-loop
// ping-pong at the same rate against the same server. Information, no
// target.
const watchCase = "echobench CPU per message, -mode watch against -rate ping-pong, 10 conns at 5000/s"

const (
	watchCostConns = 10
	watchCostRate  = 5000
	watchCostRun   = 2 * time.Second
)

// watchCostRow measures watchCase over rounds (at most 5) and prints its row.
func watchCostRow(ctx context.Context, bin, self string, rounds int, out io.Writer) (bool, error) {
	srv, err := startServer(filepath.Join(bin, "tcpserver"), "-listen", "127.0.0.1:0", "-max-conns", "0")
	if err != nil {
		return false, err
	}
	defer srv.stop()
	common := []string{"-addr", srv.addr, "-c", strconv.Itoa(watchCostConns), "-rate", strconv.Itoa(watchCostRate), "-d", watchCostRun.String(), "-json", "-", "-q"}
	var watch, loop, ratios []float64
	for round := range min(rounds, 5) {
		sides := [][]string{append([]string{"-mode", "watch"}, common...), common}
		if round%2 == 1 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		var us [2]float64
		for i, args := range sides {
			v, err := clientCPUPerMessage(ctx, self, args)
			if err != nil {
				return false, err
			}
			us[(i+round)%2] = v
		}
		watch, loop, ratios = append(watch, us[0]), append(loop, us[1]), append(ratios, us[0]/us[1])
	}
	fmt.Fprintf(out, "| %s | %.1f µs/msg | %.1f µs/msg | %.2f (%.2f–%.2f) | — | — | information |\n",
		watchCase, median(watch), median(loop), median(slices.Clone(ratios)), slices.Min(ratios), slices.Max(ratios))
	return true, nil
}

// clientCPUPerMessage runs echobench with args and returns the CPU time
// (user and system) it spent a message it sent, in microseconds.
func clientCPUPerMessage(ctx context.Context, self string, args []string) (float64, error) {
	cmd := exec.CommandContext(ctx, self, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("echobench %v: %w: %s", args, err, stderr.String())
	}
	var rep struct {
		Messages int64 `json:"messages"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return 0, fmt.Errorf("echobench %v: its report: %w: %.200s", args, err, stdout.String())
	}
	if rep.Messages == 0 {
		return 0, fmt.Errorf("echobench %v reported no messages: %.200s", args, stdout.String())
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return float64(cpu.Microseconds()) / float64(rep.Messages), nil
}
