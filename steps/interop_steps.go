package steps

import (
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
	return worldFrom(ctx).tool.check(want)
}

// toolPrintsExactlyWhatItSent is the step `^(nc|socat) prints exactly what it sent$`.
func toolPrintsExactlyWhatItSent(ctx context.Context, tool string) error {
	w := worldFrom(ctx)
	return w.tool.check(w.tool.sent)
}

// socatEchoServerOver is the step `^socat's echo server over (TCP|UDP)$`.
func socatEchoServerOver(ctx context.Context, proto string) error {
	w := worldFrom(ctx)
	if proto == "TCP" {
		s, addr, err := socatEcho("tcp")
		return w.useThirdParty(ctx, s, err, func() { w.elsewhere = addr })
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
	return w.useThirdParty(ctx, s, err, func() { w.elsewhere, w.udp.elsewhere = addr, addr })
}

// toolSends runs tool as a client of the scenario's server over proto, to
// send data and print what comes back. A missing tool skips the scenario.
func toolSends(ctx context.Context, tool, proto string, data []byte) error {
	w := worldFrom(ctx)
	start, addr := w.startServer, func() string { return w.addr }
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
		// -t5: after stdin ends, wait up to 5 s for the server to finish.
		"socat tcp": {"-t5", "-", "TCP:" + addr()},
		// -T1: give up after a second with nothing to do.
		"socat udp": {"-T1", "-", "UDP:" + addr()},
	}[tool+" "+proto]
	printed, err := runTool(ctx, tool, data, args...)
	if errors.Is(err, errMissingTool) {
		return skipScenario(ctx, "%v", err)
	}
	w.tool = &toolRun{name: tool, sent: data, printed: printed, err: err}
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
	w.thirdParty = append(w.thirdParty, s)
	use()
	return nil
}
