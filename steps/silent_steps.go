package steps

import (
	"context"
	"fmt"

	"github.com/cucumber/godog"
	"github.com/echospec/echo/impl/echobench"
	"github.com/echospec/echo/internal/procmem"
	"github.com/stretchr/testify/assert"
)

// silentCrowd is many clients that each had a line echoed and then fell
// silent, held open by echobench's idle mode (no goroutine or buffer per
// client, so the test's own memory does not limit how many).
type silentCrowd struct {
	held   *echobench.Held
	result echobench.Result
	before int // the server's resident memory before they connected, in bytes
	n      int
}

// clientsConnectEchoOnceAndStaySilent is the step `^(\d+) clients connect, each has a line echoed, and all stay silent$`.
func clientsConnectEchoOnceAndStaySilent(ctx context.Context, n int) error {
	if err := needBinaries(ctx); err != nil {
		return err
	}
	w := worldFrom(ctx)
	if err := w.startServer(); err != nil {
		return err
	}
	before, err := procmem.Read(w.process().cmd.Process.Pid, "VmRSS")
	if err != nil {
		return err
	}
	res, held, err := echobench.Hold(ctx, echobench.Config{Addr: w.server.addr, Conns: n, Size: 16, Line: true, Timeout: patience})
	if err != nil {
		return err
	}
	w.scratch.closers = append(w.scratch.closers, func() { held.Close() })
	w.clients.silent = &silentCrowd{held: held, result: res, before: before, n: n}
	if held.Len() != n {
		return fmt.Errorf("%d of %d clients could not connect and have a line echoed; the first: %w", n-held.Len(), n, res.FirstError)
	}
	return nil
}

// serverMemoryGrewByLessThan is the step `^the server's resident memory grew by less than (\d+) MiB while they connected$`.
func serverMemoryGrewByLessThan(ctx context.Context, mib int) error {
	w := worldFrom(ctx)
	if w.clients.silent == nil {
		return fmt.Errorf("no silent clients have connected")
	}
	after, err := procmem.Read(w.process().cmd.Process.Pid, "VmRSS")
	if err != nil {
		return err
	}
	grew := after - w.clients.silent.before
	godog.Logf(ctx, "tcpserver's resident memory grew by %.1f MiB for %d silent clients: %.2f KiB each", float64(grew)/(1<<20), w.clients.silent.n, float64(grew)/1024/float64(w.clients.silent.n))
	assert.Less(godog.T(ctx), grew, mib<<20, "growth of tcpserver's resident memory (VmRSS) for %d silent clients", w.clients.silent.n)
	return nil
}

// everySilentClientStillHasLineEchoed is the step `^every silent client still has a line echoed$`.
func everySilentClientStillHasLineEchoed(ctx context.Context) error {
	w := worldFrom(ctx)
	if w.clients.silent == nil {
		return fmt.Errorf("no silent clients have connected")
	}
	res := w.clients.silent.held.Check(ctx, w.clients.silent.result)
	if res.Errors > 0 {
		return fmt.Errorf("%d of %d silent clients had no echo; the first: %w", res.Errors, w.clients.silent.n, res.FirstError)
	}
	assert.Equal(godog.T(ctx), int64(2*w.clients.silent.n), res.RoundTrips, "lines echoed: one per client before the silence, one after")
	return nil
}

// registerSilentSteps registers the steps of this file: many clients held open and silent, and what they cost the server.
func registerSilentSteps(sc *godog.ScenarioContext) {
	sc.Step(`^(\d+) clients connect, each has a line echoed, and all stay silent$`, clientsConnectEchoOnceAndStaySilent)
	sc.Step(`^the server's resident memory grew by less than (\d+) MiB while they connected$`, serverMemoryGrewByLessThan)
	sc.Step(`^every silent client still has a line echoed$`, everySilentClientStillHasLineEchoed)
}
