package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/cucumber/godog"

	"github.com/echospec/echo/impl/udpecho"
)

// forgedReasons are the guard's reasons, as a scenario says them.
var forgedReasons = map[string]error{
	"it comes from its own port":                       udpecho.ErrOwnPort,
	"its source is a broadcast or unspecified address": udpecho.ErrGroupSource,
	"its source is an echo service in a loop with it":  udpecho.ErrLoop,
	"it comes from a service port":                     udpecho.ErrServicePort,
}

// forgeTo sends a datagram claiming to come from src to the scenario's
// server, skipping the scenario where no raw socket can be had.
func forgeTo(ctx context.Context, src, text string) error {
	payload, err := unquote(text)
	if err != nil {
		return err
	}
	u := worldFrom(ctx).udp
	if err := u.startServer(); err != nil {
		return err
	}
	dst, err := addrPortOf(u.addr)
	if err != nil {
		return err
	}
	from, err := addrPortOf(src)
	if err != nil {
		return err
	}
	u.forgedFrom, u.forgedTo, u.forgedPayload = from, dst, payload
	err = u.forgeAgain()
	if errors.Is(err, errNeedsRaw) {
		return skipScenario(ctx, "%v", err)
	}
	return err
}

// forgeAgain sends the forged datagram (again), and marks where in the
// server's events it went.
func (u *udpWorld) forgeAgain() error {
	u.forgedMark = len(u.events.snapshot())
	return forge(u.forgedFrom, u.forgedTo, u.forgedPayload)
}

// datagramForgedFromServerItself is the step `^a datagram `+quoted+` forged from the server's own address and port$`.
func datagramForgedFromServerItself(ctx context.Context, text string) error {
	u := worldFrom(ctx).udp
	if err := u.startServer(); err != nil {
		return err
	}
	return forgeTo(ctx, u.addr, text)
}

// datagramForgedFrom is the step `^a datagram `+quoted+` forged from (\S+) to the server$`.
func datagramForgedFrom(ctx context.Context, text, src string) error {
	return forgeTo(ctx, src, text)
}

// secondServer is the step `^a second UDP echo server (on the same port at 127\.0\.0\.2|on another port)(, with no reflection guard)?$`.
func secondServer(ctx context.Context, where, unguarded string) error {
	u := worldFrom(ctx).udp
	if err := u.startServer(); err != nil {
		return err
	}
	cfg := u.udpConfig
	cfg.guardOff = unguarded != ""
	cfg.listen = "127.0.0.1:0"
	if where == "on the same port at 127.0.0.2" {
		_, port, err := net.SplitHostPort(u.addr)
		if err != nil {
			return err
		}
		cfg.listen = net.JoinHostPort("127.0.0.2", port)
	}
	svc, err := startUDP(u.target, cfg, newEventLog(udpSummary))
	if err != nil {
		return err
	}
	u.second = svc
	return nil
}

// datagramForgedFromSecondServer is the step `^a datagram `+quoted+` forged from the second server to the first$`.
func datagramForgedFromSecondServer(ctx context.Context, text string) error {
	u := worldFrom(ctx).udp
	if u.second == nil {
		return errors.New("there is no second server")
	}
	return forgeTo(ctx, u.second.address(), text)
}

// serverRefusesForged is the step `^the server refuses the forged datagram because (.+)$`.
func serverRefusesForged(ctx context.Context, because string) error {
	want, ok := forgedReasons[because]
	if !ok {
		return fmt.Errorf("no such reason: %q", because)
	}
	u := worldFrom(ctx).udp
	if errors.Is(want, udpecho.ErrLoop) {
		return u.awaitLoopRefusal(ctx)
	}
	_, err := u.events.waitFor(ctx, fmt.Sprintf("a datagram from %v refused because %s", u.forgedFrom, because), func(events []udpEvent) bool {
		return refusedBecause(events, u, want) != nil
	})
	return err
}

// awaitLoopRefusal waits for the server to refuse the forged source as a
// loop for as long as the loop goes on. A loop can also end on its own,
// when a datagram in it is lost (a machine so loaded that a socket's
// buffer overflows): then it is forged again, a few times, since the
// scenario is about the server ending it.
func (u *udpWorld) awaitLoopRefusal(ctx context.Context) error {
	const stall, tries = time.Second, 5
	answers := func(events []udpEvent) int {
		n := 0
		for _, e := range events[min(u.forgedMark, len(events)):] {
			if e.kind == udpecho.Received && sameSource(e, u) {
				n++
			}
		}
		return n
	}
	last, forged := -1, 1
	for {
		wait, cancel := context.WithTimeout(ctx, stall)
		events, err := u.events.waitFor(wait, "the loop's refusal", func(events []udpEvent) bool {
			return refusedBecause(events, u, udpecho.ErrLoop) != nil
		})
		cancel()
		if err == nil {
			return nil
		}
		n := answers(events)
		switch {
		case n > last:
			last = n // still going
		case forged == tries:
			return fmt.Errorf("the server never refused %v as a loop: forged %d times, each loop ended on its own or ran on (%d answers to the last, none for %v)", u.forgedFrom, forged, n, stall)
		default:
			forged, last = forged+1, -1
			if err := u.forgeAgain(); err != nil {
				return err
			}
		}
	}
}

// refusedBecause is the first refusal of the forged source for reason
// want, or nil.
func refusedBecause(events []udpEvent, u *udpWorld, want error) *udpEvent {
	for i, e := range events {
		if e.kind == udpecho.Refused && sameSource(e, u) && errors.Is(e.reason, want) {
			return &events[i]
		}
	}
	return nil
}

func sameSource(e udpEvent, u *udpWorld) bool {
	return e.source.Addr().Unmap() == u.forgedFrom.Addr() && e.source.Port() == u.forgedFrom.Port()
}

// serverDidNotAnswerForged is the step `^the server did not answer the forged datagram$`.
func serverDidNotAnswerForged(ctx context.Context) error {
	n, err := answeredForged(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("the server answered the datagram forged from %v %d times", worldFrom(ctx).udp.forgedFrom, n)
	}
	return nil
}

// answeredForged counts the server's answers to the forged source once
// every datagram before a client's is answered: the server answers in
// order, so a loop still going would be counted.
func answeredForged(ctx context.Context) (int, error) {
	u := worldFrom(ctx).udp
	const marker = "a client after the forged datagram"
	if err := sendDatagram(ctx, marker, []byte("after")); err != nil {
		return 0, err
	}
	if err := receivesDatagrams(ctx, marker, [][]byte{[]byte("after")}); err != nil {
		return 0, err
	}
	events, err := u.events.waitFor(ctx, "the answer to "+marker, func(events []udpEvent) bool {
		p := u.peers[clientName(marker)]
		for _, e := range events {
			if e.kind == udpecho.Received && p != nil && e.source.Port() == uint16(p.conn.LocalAddr().(*net.UDPAddr).Port) {
				return true
			}
		}
		return false
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range events {
		if e.kind == udpecho.Received && sameSource(e, u) {
			n++
		}
	}
	return n, nil
}

// loopEndedWithin is the step `^the loop ended after at most (\d+) answers, and stays ended$`.
func loopEndedWithin(ctx context.Context, most int) error {
	u := worldFrom(ctx).udp
	events, err := u.events.waitFor(ctx, "the loop's refusal", func(events []udpEvent) bool {
		return refusedBecause(events, u, udpecho.ErrLoop) != nil
	})
	if err != nil {
		return err
	}
	refused := refusedBecause(events, u, udpecho.ErrLoop)
	answers, first := 0, time.Time{}
	for i := min(u.forgedMark, len(events)); i < len(events); i++ {
		e := &events[i]
		if e == refused {
			break
		}
		if e.kind == udpecho.Received && sameSource(*e, u) {
			answers++
			if first.IsZero() {
				first = e.at
			}
		}
	}
	if answers > most {
		return fmt.Errorf("the server answered the loop %d times before it refused it, more than %d", answers, most)
	}
	before, err := answeredForged(ctx)
	if err != nil {
		return err
	}
	after, err := answeredForged(ctx)
	if err != nil {
		return err
	}
	if after != before {
		return fmt.Errorf("the loop goes on: %d answers to %v, then %d", before, u.forgedFrom, after)
	}
	godog.T(ctx).Logf("the loop ran %d answers, %v, before it was refused", answers, refused.at.Sub(first).Round(time.Millisecond))
	return nil
}

// registerGuardSteps registers the steps of this file: forged datagrams and loops between echo servers.
func registerGuardSteps(sc *godog.ScenarioContext) {
	sc.Step(`^a datagram `+quoted+` forged from the server's own address and port$`, datagramForgedFromServerItself)
	sc.Step(`^a datagram `+quoted+` forged from (\S+) to the server$`, datagramForgedFrom)
	sc.Step(`^a second UDP echo server (on the same port at 127\.0\.0\.2|on another port)(, with no reflection guard)?$`, secondServer)
	sc.Step(`^a datagram `+quoted+` forged from the second server to the first$`, datagramForgedFromSecondServer)
	sc.Step(`^the server refuses the forged datagram because (.+)$`, serverRefusesForged)
	sc.Step(`^the server did not answer the forged datagram$`, serverDidNotAnswerForged)
	sc.Step(`^the loop ended after at most (\d+) answers, and stays ended$`, loopEndedWithin)
}
