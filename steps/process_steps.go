package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exited is what a binary did, for the steps about exit status and output.
type exited struct {
	name   string
	code   int
	stderr string
	after  time.Duration // from the signal that stopped it, if one did
}

var signals = map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT, "SIGHUP": syscall.SIGHUP}

// serverProcessIsRunning is the step `^(tcpserver|udpserver) is running$`.
func serverProcessIsRunning(ctx context.Context, name string) error {
	w := worldFrom(ctx)
	if err := needBinaries(ctx); err != nil {
		return err
	}
	if name == "udpserver" {
		return w.udp.startServer()
	}
	return w.startServer()
}

// tcpserverFramingIsRunning is the step `^tcpserver -framing (stream|line|fixed) is running$`.
func tcpserverFramingIsRunning(ctx context.Context, framing string) error {
	w := worldFrom(ctx)
	if err := needBinaries(ctx); err != nil {
		return err
	}
	if err := w.server.framing.UnmarshalText([]byte(framing)); err != nil {
		return err
	}
	return w.startServer()
}

// serverProcessGetsSignal is the step `^(tcpserver|udpserver) gets (SIGTERM|SIGINT|SIGHUP)$`.
func serverProcessGetsSignal(ctx context.Context, name, sig string) error {
	return signalAndWait(ctx, name, signals[sig])
}

// addressThatIsTaken is the step `^an address that is taken$`.
func addressThatIsTaken(ctx context.Context) error {
	// Taken for TCP and UDP alike, so that either server finds it so: a
	// port free for TCP may be another scenario's for UDP, so the kernel
	// picks the TCP port and the step tries the UDP one, a few times.
	w := worldFrom(ctx)
	var last error
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := l.Addr().String()
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			l.Close()
			last = err
			continue
		}
		w.procs.taken, w.scratch.closers = addr, append(w.scratch.closers, func() { l.Close(); pc.Close() })
		return nil
	}
	return fmt.Errorf("no port free for both TCP and UDP in 20 tries: %w", last)
}

// serverProcessIsStartedOnThatAddress is the step `^(tcpserver|udpserver) is started on that address$`.
func serverProcessIsStartedOnThatAddress(ctx context.Context, name string) error {
	return startBinary(ctx, name, "-listen", processesOf(ctx).taken)
}

// binaryIsStartedWith is the step `^(tcpserver|udpserver|tcpclient|udpclient) is started with "([^"]*)"$`.
func binaryIsStartedWith(ctx context.Context, name, args string) error {
	return startBinary(ctx, name, strings.Fields(args)...)
}

// binaryExitsWithStatus is the step `^it exits with status (\d+)$`.
func binaryExitsWithStatus(ctx context.Context, code int) error {
	e := processesOf(ctx).exited
	if e == nil {
		return errors.New("no binary has exited in this scenario")
	}
	assert.Equal(godog.T(ctx), code, e.code, "%s's exit status; it wrote:\n%s", e.name, e.stderr)
	return nil
}

// binaryOnlyOutputIs is the step `^its only output is:$`: the DocString,
// <that address> standing for the address taken.
func binaryOnlyOutputIs(ctx context.Context, doc *godog.DocString) error {
	w := worldFrom(ctx)
	require.NotNil(godog.T(ctx), w.procs.exited)
	want := strings.ReplaceAll(strings.TrimSpace(doc.Content), "<that address>", w.procs.taken) + "\n"
	assert.Equal(godog.T(ctx), want, w.procs.exited.stderr)
	return nil
}

// binarySaysThenPointsToHelp is the step `^it says "(.*)", then where to find its usage, and nothing more$`:
// two lines, the problem and a pointer to -h, so that the problem does not
// scroll away behind the usage.
func binarySaysThenPointsToHelp(ctx context.Context, line string) error {
	w := worldFrom(ctx)
	require.NotNil(godog.T(ctx), w.procs.exited)
	want := line + "\nrun '" + w.procs.exited.name + " -h' for usage\n"
	assert.Equal(godog.T(ctx), want, w.procs.exited.stderr)
	return nil
}

// startBinary runs one of our binaries with args until it exits, which it
// must within patience, and keeps what it did.
func startBinary(ctx context.Context, name string, args ...string) error {
	w := worldFrom(ctx)
	if err := needBinaries(ctx); err != nil {
		return err
	}
	run, err := runClient(ctx, w.target.Bin, name, patience, "", args...)
	if err != nil {
		return err
	}
	w.procs.exited = &exited{name: name, code: run.code, stderr: run.stderr}
	return nil
}

// registerProcessSteps registers the steps of this file: what only a process has: signals, exit statuses, its output.
func registerProcessSteps(sc *godog.ScenarioContext) {
	sc.Step(`^(tcpserver|udpserver) is running$`, serverProcessIsRunning)
	sc.Step(`^tcpserver -framing (stream|line|fixed) is running$`, tcpserverFramingIsRunning)
	sc.Step(`^(tcpserver|udpserver) gets (SIGTERM|SIGINT|SIGHUP)$`, serverProcessGetsSignal)
	sc.Step(`^an address that is taken$`, addressThatIsTaken)
	sc.Step(`^(tcpserver|udpserver) is started on that address$`, serverProcessIsStartedOnThatAddress)
	sc.Step(`^(tcpserver|udpserver|tcpclient|udpclient) is started with "([^"]*)"$`, binaryIsStartedWith)
	sc.Step(`^it exits with status (\d+)$`, binaryExitsWithStatus)
	sc.Step(`^its only output is:$`, binaryOnlyOutputIs)
	sc.Step(`^it says "(.*)", then where to find its usage, and nothing more$`, binarySaysThenPointsToHelp)
}
