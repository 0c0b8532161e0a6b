package steps

import (
	"fmt"

	"github.com/cucumber/godog"

	"context"
	"errors"
	"net"
)

// toolSendsTextOverTCP is the step `^(nc|socat) sends `+quoted+` over TCP$`.
func toolSendsTextOverTCP(ctx context.Context, tool, text string) error {
	b, err := unquote(text)
	if err != nil {
		return err
	}
	return toolSends(ctx, tool, "tcp", b)
}

// toolSendsRandomBytesOverTCP is the step `^(nc|socat) sends (\d+) (KiB|MiB) of random bytes over TCP$`.
func toolSendsRandomBytesOverTCP(ctx context.Context, tool string, n int, unit string) error {
	return toolSends(ctx, tool, "tcp", randomBytes(n*units[unit]))
}

// toolSendsDatagramOverUDP is the step `^(nc|socat) sends the datagram `+quoted+` over UDP$`.
func toolSendsDatagramOverUDP(ctx context.Context, tool, text string) error {
	b, err := unquote(text)
	if err != nil {
		return err
	}
	return toolSends(ctx, tool, "udp", b)
}

// toolPrintsExactlyText is the step `^(nc|socat|openssl s_client|ncat --ssl) prints exactly `+quoted+`$`.
func toolPrintsExactlyText(ctx context.Context, tool, text string) error {
	want, err := unquote(text)
	if err != nil {
		return err
	}
	return processesOf(ctx).tool.check(want)
}

// toolPrintsExactlyWhatItSent is the step `^(nc|socat) prints exactly what it sent$`.
func toolPrintsExactlyWhatItSent(ctx context.Context, tool string) error {
	w := worldFrom(ctx)
	return w.procs.tool.check(w.procs.tool.sent)
}

// socatEchoServerOver is the step `^socat's echo server over (TCP|UDP)$`.
func socatEchoServerOver(ctx context.Context, proto string) error {
	w := worldFrom(ctx)
	if proto == "TCP" {
		s, addr, err := socatEcho("tcp")
		return w.useThirdParty(ctx, s, err, func() { w.clients.elsewhere = addr })
	}
	s, addr, err := socatEcho("udp")
	return w.useThirdParty(ctx, s, err, func() { w.udp.elsewhere = addr })
}

// xinetdBuiltInEcho is the step `^xinetd's built-in echo$`.
func xinetdBuiltInEcho(ctx context.Context) error {
	w := worldFrom(ctx)
	dir, err := w.tempDir()
	if err != nil {
		return err
	}
	s, addr, err := xinetdEcho(dir)
	return w.useThirdParty(ctx, s, err, func() { w.clients.elsewhere, w.udp.elsewhere = addr, addr })
}

// toolSends runs tool as a client of the scenario's server over proto, to
// send data and print what comes back. A missing tool skips the scenario.
func toolSends(ctx context.Context, tool, proto string, data []byte) error {
	w := worldFrom(ctx)
	start, addr := w.startServer, func() string { return w.server.addr }
	if proto == "udp" {
		start, addr = w.udp.startServer, func() string { return w.udp.addr }
	}
	if err := start(); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(addr())
	if err != nil {
		return err
	}
	args := map[string][]string{
		// -N: half-close after stdin ends, so the server can finish.
		"nc tcp": {"-N", host, port},
		// -w1: give up a second after the last datagram.
		"nc udp": {"-u", "-w1", host, port},
		// -t: after stdin ends, wait for the server to finish; socat
		// ends as soon as the server closes, so this is only a bound.
		"socat tcp": {"-t" + fmt.Sprint(int(toolLimit.Seconds())), "-", "TCP:" + addr()},
		// -T1: give up after a second with nothing to do.
		"socat udp": {"-T1", "-", "UDP:" + addr()},
	}[tool+" "+proto]
	printed, err := runTool(ctx, tool, data, args...)
	if errors.Is(err, errMissingTool) {
		return skipScenario(ctx, "%v", err)
	}
	w.procs.tool = &toolRun{name: tool, sent: data, printed: printed, err: err}
	return nil
}

// useThirdParty keeps a server that is not ours for the scenario, skipping
// the scenario if its tool is not installed.
func (w *world) useThirdParty(ctx context.Context, s *thirdPartyServer, err error, use func()) error {
	if errors.Is(err, errMissingTool) {
		return skipScenario(ctx, "%v", err)
	}
	if err != nil {
		return err
	}
	w.procs.thirdParty = append(w.procs.thirdParty, s)
	use()
	return nil
}

// registerInteropSteps registers the steps of this file: tools that are not ours: nc, socat, xinetd.
func registerInteropSteps(sc *godog.ScenarioContext) {
	sc.Step(`^(nc|socat) sends `+quoted+` over TCP$`, toolSendsTextOverTCP)
	sc.Step(`^(nc|socat) sends (\d+) (KiB|MiB) of random bytes over TCP$`, toolSendsRandomBytesOverTCP)
	sc.Step(`^(nc|socat) sends the datagram `+quoted+` over UDP$`, toolSendsDatagramOverUDP)
	sc.Step(`^(nc|socat|openssl s_client|ncat --ssl) prints exactly `+quoted+`$`, toolPrintsExactlyText)
	sc.Step(`^(nc|socat) prints exactly what it sent$`, toolPrintsExactlyWhatItSent)
	sc.Step(`^socat's echo server over (TCP|UDP)$`, socatEchoServerOver)
	sc.Step(`^xinetd's built-in echo$`, xinetdBuiltInEcho)
}
