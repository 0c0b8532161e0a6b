package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cucumber/godog"

	"github.com/echospec/echo/internal/identity"
)

// probeNonce is the nonce of the scenarios' identity probes.
var probeNonce = identity.Nonce{'s', 'c', 'e', 'n', 'a', 'r', 'i', 'o'}

// udpServerNamed is the step `^a UDP echo server named "([^"]*)"$`.
func udpServerNamed(ctx context.Context, name string) error {
	u := worldFrom(ctx).udp
	if u.started() {
		return errors.New("the UDP server is already running; name it before any client sends")
	}
	u.identity = name
	return nil
}

// tcpServerNamed is the step `^a (stream|fixed|line) echo server named "([^"]*)"$`.
func tcpServerNamed(ctx context.Context, framing, name string) error {
	if err := useFraming(ctx, framing); err != nil {
		return err
	}
	w := worldFrom(ctx)
	return w.configure(func() { w.server.identity = name })
}

// clientSendsProbeAndText is the step `^`+client+` sends (the identity probe, then `+quoted+`|`+quoted+`, then the identity probe)$`.
func clientSendsProbeAndText(ctx context.Context, name, order, first, second string) error {
	text, probeFirst := second, false
	if first != "" {
		text, probeFirst = first, true
	}
	p, b, err := peerAndText(ctx, name, text)
	if err != nil {
		return err
	}
	probe := identity.Probe(probeNonce)
	data := append(b, probe...)
	if probeFirst {
		data = append(probe, b...)
	}
	if _, err := p.conn.Write(data); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	p.sent += len(data)
	return nil
}

// clientReceivesAnswerThenText is the step `^`+client+` receives the answer "([^"]*)" to its probe, then `+quoted+`$`.
func clientReceivesAnswerThenText(ctx context.Context, name, who, text string) error {
	p, b, err := peerAndText(ctx, name, text)
	if err != nil {
		return err
	}
	want := append(identity.AnswerInPlace(identity.Probe(probeNonce), who), b...)
	return receiveExactly(p, want, "the answer naming "+who+", then the text")
}

// clientReceivesTextAndProbeBack is the step `^`+client+` receives `+quoted+`, then its probe, back as sent$`.
func clientReceivesTextAndProbeBack(ctx context.Context, name, text string) error {
	p, b, err := peerAndText(ctx, name, text)
	if err != nil {
		return err
	}
	return receiveExactly(p, append(b, identity.Probe(probeNonce)...), "the text and the probe as sent")
}

// receiveExactly reads len(want) bytes, waiting patience for them, and
// says how what came differs from what, described by what, was due.
func receiveExactly(p *peer, want []byte, what string) error {
	p.conn.SetReadDeadline(time.Now().Add(patience))
	got := make([]byte, len(want))
	n, err := io.ReadFull(p.conn, got)
	switch {
	case err != nil:
		return fmt.Errorf("waiting for %s (%d bytes): %d came, %s, then: %w", what, len(want), n, show(got[:min(n, 40)]), err)
	case !bytes.Equal(got, want):
		return fmt.Errorf("%s was due: %s; came: %s", what, show(want), show(got))
	}
	return nil
}

// clientSendsIdentityProbe is the step `^a client sends the identity probe(?: with (one byte fewer|one byte more|a padding byte that is not zero))?$`.
func clientSendsIdentityProbe(ctx context.Context, changed string) error {
	probe := identity.Probe(probeNonce)
	switch changed {
	case "one byte fewer":
		probe = probe[:len(probe)-1]
	case "one byte more":
		probe = append(probe, '\n')
	case "a padding byte that is not zero":
		probe[identity.Size-2] = ' '
	}
	return sendDatagram(ctx, clientName("a client"), probe)
}

// clientReceivesIdentity is the step `^the client receives the answer "([^"]*)" to its probe, no larger than the probe$`.
func clientReceivesIdentity(ctx context.Context, name string) error {
	u := worldFrom(ctx).udp
	p, err := u.peer(clientName("a client"))
	if err != nil {
		return err
	}
	got, err := p.receive(p.from(u.addr))
	if err != nil {
		return err
	}
	answer, ok := identity.ParseAnswer(got, probeNonce)
	switch {
	case !ok:
		return fmt.Errorf("no answer to the probe: %d bytes came back, %s", len(got), show(got[:min(len(got), 40)]))
	case answer != name:
		return fmt.Errorf("the answer names %q, not %q", answer, name)
	case len(got) > identity.Size:
		return fmt.Errorf("the answer has %d bytes, more than the probe's %d", len(got), identity.Size)
	}
	return nil
}

// registerIdentitySteps registers the steps of this file: a server's identity and its probe.
func registerIdentitySteps(sc *godog.ScenarioContext) {
	sc.Step(`^a UDP echo server named "([^"]*)"$`, udpServerNamed)
	sc.Step(`^a (stream|fixed|line) echo server named "([^"]*)"$`, tcpServerNamed)
	sc.Step(`^`+client+` sends (the identity probe, then `+quoted+`|`+quoted+`, then the identity probe)$`, clientSendsProbeAndText)
	sc.Step(`^`+client+` receives the answer "([^"]*)" to its probe, then `+quoted+`$`, clientReceivesAnswerThenText)
	sc.Step(`^`+client+` receives `+quoted+`, then its probe, back as sent$`, clientReceivesTextAndProbeBack)
	sc.Step(`^a client sends the identity probe(?: with (one byte fewer|one byte more|a padding byte that is not zero))?$`, clientSendsIdentityProbe)
	sc.Step(`^the client receives the answer "([^"]*)" to its probe, no larger than the probe$`, clientReceivesIdentity)
}
