package steps

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/echospec/echo/impl/echobench"
)

// pingPonger is echobench's ping-pong as a scenario runs it: echobench.Run
// in library mode, the echobench binary in process mode, whose report is
// read back. newPingPonger is the one place that picks.
type pingPonger interface {
	pingPong(ctx context.Context, cfg echobench.Config) (*benchReport, error)
}

func newPingPonger(t Target) pingPonger {
	if t.Mode == Process {
		return benchProcess{bin: t.Bin}
	}
	return benchLibrary{}
}

// benchLibrary runs echobench.Run.
type benchLibrary struct{}

func (benchLibrary) pingPong(ctx context.Context, cfg echobench.Config) (*benchReport, error) {
	res, err := echobench.Run(ctx, cfg, nil)
	if err != nil {
		return nil, err
	}
	return &benchReport{p50: time.Duration(res.Latency.ValueAtQuantile(50)) * time.Microsecond, errors: res.Errors}, nil
}

// benchProcess runs the echobench binary in bin.
type benchProcess struct{ bin string }

func (b benchProcess) pingPong(ctx context.Context, cfg echobench.Config) (*benchReport, error) {
	args := []string{"-addr", cfg.Addr, "-c", fmt.Sprint(cfg.Conns), "-d", cfg.Duration.String()}
	if cfg.Line {
		args = append(args, "-line")
	}
	run, err := runClient(ctx, b.bin, "echobench", cfg.Duration+patience, "", args...)
	if err != nil {
		return nil, err
	}
	if run.code != 0 {
		return nil, fmt.Errorf("echobench exited %d: %s", run.code, run.stderr)
	}
	return readBenchReport(run.stdout)
}

// benchReport is what echobench reported of a ping-pong run.
type benchReport struct {
	p50    time.Duration
	errors int64
}

// readBenchReport reads the latency and errors lines of echobench's
// report: "latency      p50 201ms  p99 ..." and "errors       0".
func readBenchReport(out string) (*benchReport, error) {
	r := &benchReport{errors: -1}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "latency" && f[1] == "p50":
			d, err := time.ParseDuration(f[2])
			if err != nil {
				return nil, fmt.Errorf("echobench's latency line %q: %w", line, err)
			}
			r.p50 = d
		case len(f) == 2 && f[0] == "errors":
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("echobench's errors line %q: %w", line, err)
			}
			r.errors = n
		}
	}
	if r.p50 == 0 || r.errors < 0 {
		return nil, fmt.Errorf("echobench reported no latency or no errors line: %s", out)
	}
	return r, nil
}
