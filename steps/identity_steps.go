package steps

import (
	"context"
	"errors"
	"fmt"

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
	sc.Step(`^a client sends the identity probe(?: with (one byte fewer|one byte more|a padding byte that is not zero))?$`, clientSendsIdentityProbe)
	sc.Step(`^the client receives the answer "([^"]*)" to its probe, no larger than the probe$`, clientReceivesIdentity)
}
