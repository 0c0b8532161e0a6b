package steps

import (
	"github.com/cucumber/godog"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// fortioMakesCalls is the step `^fortio makes (\d+) calls of (\d+) bytes over (TCP|UDP), (\d+) connections at (\d+) calls a second$`.
func fortioMakesCalls(ctx context.Context, calls, size int, proto string, conns, qps int) error {
	w := worldFrom(ctx)
	var addr string
	var err error
	if proto == "TCP" {
		err = w.startServer()
		addr = "tcp://" + w.server.addr
	} else {
		err = w.udp.startServer()
		addr = "udp://" + w.udp.addr
	}
	if err != nil {
		return err
	}
	dir, err := w.tempDir()
	if err != nil {
		return err
	}
	report := filepath.Join(dir, "fortio.json")
	printed, err := runTool(ctx, "fortio", nil, "load", "-quiet",
		"-n", strconv.Itoa(calls), "-payload-size", strconv.Itoa(size), "-c", strconv.Itoa(conns), "-qps", strconv.Itoa(qps),
		"-timeout", "2s", "-json", report, addr)
	if err != nil {
		if errors.Is(err, errMissingTool) {
			return skipScenario(ctx, "%v", err)
		}
		return err
	}
	w.procs.fortio = &fortioRun{report: report, printed: printed}
	return nil
}

// fortioReportsCallsAllOK is the step `^fortio reports (\d+) calls, all OK, and got back every byte it sent$`.
func fortioReportsCallsAllOK(ctx context.Context, calls int) error {
	r := processesOf(ctx).fortio
	if r == nil {
		return errNothing
	}
	b, err := os.ReadFile(r.report)
	if err != nil {
		return fmt.Errorf("fortio's report: %w; it printed: %s", err, r.printed)
	}
	var res struct {
		RetCodes                 map[string]int64
		BytesSent, BytesReceived int64
		ErrorsDurationHistogram  struct{ Count int64 }
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("fortio's report: %w", err)
	}
	switch {
	case res.RetCodes["OK"] != int64(calls) || len(res.RetCodes) != 1:
		return fmt.Errorf("fortio's calls by outcome: %v, want %d OK and nothing else; it printed: %s", res.RetCodes, calls, r.printed)
	case res.ErrorsDurationHistogram.Count != 0:
		return fmt.Errorf("fortio counted %d errors; it printed: %s", res.ErrorsDurationHistogram.Count, r.printed)
	case res.BytesReceived != res.BytesSent || res.BytesSent == 0:
		return fmt.Errorf("fortio sent %d bytes and got %d back", res.BytesSent, res.BytesReceived)
	}
	return nil
}

// fortioRun is where fortio wrote its results, and what it printed.
type fortioRun struct {
	report  string
	printed []byte
}

// registerFortioSteps registers the steps of this file: fortio, a load tool.
func registerFortioSteps(sc *godog.ScenarioContext) {
	sc.Step(`^fortio makes (\d+) calls of (\d+) bytes over (TCP|UDP), (\d+) connections at (\d+) calls a second$`, fortioMakesCalls)
	sc.Step(`^fortio reports (\d+) calls, all OK, and got back every byte it sent$`, fortioReportsCallsAllOK)
}
