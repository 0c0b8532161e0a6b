package steps

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/echobench"
	"github.com/echospec/echo/impl/tcpecho"
)

// faultyLink returns the link between the scenario's clients and its
// server, starting both at first use; from then on clients connect to
// the link.
func (w *world) faultyLink() (*faultyLink, error) {
	if w.link != nil {
		return w.link, nil
	}
	if err := w.startServer(); err != nil {
		return nil, err
	}
	l, err := startFaultyLink(w.server.addr)
	if err != nil {
		return nil, err
	}
	w.link, w.server.addr = l, l.addr()
	w.scratch.closers = append(w.scratch.closers, l.stop)
	return l, nil
}

// both is the two directions of a link.
var both = []string{"upstream", "downstream"}

// linkAddsLatency is the step `^the link to the server adds (\d+) milliseconds each way$`.
func linkAddsLatency(ctx context.Context, ms int) error {
	l, err := worldFrom(ctx).faultyLink()
	if err != nil {
		return err
	}
	return l.add("latency", map[string]any{"latency": ms}, both...)
}

// linkCarriesAtMost is the step `^the link to the server carries at most (\d+) KiB per second each way$`.
func linkCarriesAtMost(ctx context.Context, kib int) error {
	l, err := worldFrom(ctx).faultyLink()
	if err != nil {
		return err
	}
	return l.add("bandwidth", map[string]any{"rate": kib}, both...)
}

// linkCutsDataIntoPieces is the step `^the link to the server cuts the data into pieces of about (\d+) bytes?$`.
func linkCutsDataIntoPieces(ctx context.Context, n int) error {
	l, err := worldFrom(ctx).faultyLink()
	if err != nil {
		return err
	}
	return l.add("slicer", map[string]any{"average_size": n, "size_variation": n / 2, "delay": 10}, both...)
}

// linkResetsConnections is the step `^the link to the server resets every connection that sends something$`.
func linkResetsConnections(ctx context.Context) error {
	l, err := worldFrom(ctx).faultyLink()
	if err != nil {
		return err
	}
	return l.add("reset_peer", map[string]any{"timeout": 0}, "upstream")
}

// linkGoesSilent is the step `^the link to the server goes silent$`.
func linkGoesSilent(ctx context.Context) error {
	l, err := worldFrom(ctx).faultyLink()
	if err != nil {
		return err
	}
	// Toxiproxy's timeout toxic with no timeout: nothing gets through and
	// the connection stays open, as when a path drops every packet.
	return l.add("timeout", map[string]any{"timeout": 0}, both...)
}

// echoClientReportsRoundTripOfAtLeast is the step `^the echo client reports a round trip of at least (\d+) milliseconds$`.
func echoClientReportsRoundTripOfAtLeast(ctx context.Context, ms int) error {
	e := &clientsOf(ctx).echo
	if e.c == nil {
		return fmt.Errorf("the echo client has sent nothing")
	}
	rtt := e.c.roundTrip()
	if rtt < time.Duration(ms)*time.Millisecond {
		return fmt.Errorf("the echo client reports a round trip of %v, less than %d ms", rtt, ms)
	}
	return nil
}

// serverSawAConnectionEndBecause is the step `^the server saw a connection end because (the client closed it|it was reset|the server shut down|it was idle|it stopped reading)$`.
func serverSawAConnectionEndBecause(ctx context.Context, because string) error {
	want := serverReasons[because]
	_, err := serverOf(ctx).events.waitFor(ctx, "a connection to end because "+because, func(events []event) bool {
		for _, e := range events {
			if e.kind == tcpecho.ConnClosed && errors.Is(e.reason, want) {
				return true
			}
		}
		return false
	})
	return err
}

// udpPathMistreatsDatagrams is the step `^the path to the UDP server drops (\d+) of every 10 datagrams each way, and sends every echo twice, out of order$`.
func udpPathMistreatsDatagrams(ctx context.Context, drop int) error {
	u := worldFrom(ctx).udp
	if err := u.startServer(); err != nil {
		return err
	}
	r, err := startUDPRelay(u.addr, drop)
	if err != nil {
		return err
	}
	u.relay, u.elsewhere = r, r.addr()
	u.closers = append(u.closers, r.stop)
	return nil
}

// udpEchoClientSendsNumberedMessages is the step `^the UDP echo client sends (\d+) numbered messages$`.
func udpEchoClientSendsNumberedMessages(ctx context.Context, n int) error {
	u := worldFrom(ctx).udp
	c, err := u.echoClient()
	if err != nil {
		return err
	}
	u.sentMsgs = nil
	for i := range n {
		u.sentMsgs = append(u.sentMsgs, fmt.Appendf(nil, "message %d", i+1))
	}
	u.gotMsgs, u.err = c.echo(ctx, u.sentMsgs...)
	return nil
}

// udpEchoClientGetsEachBackOnceInOrder is the step `^the UDP echo client gets each of them back, once, in order$`.
func udpEchoClientGetsEachBackOnceInOrder(ctx context.Context) error {
	u := worldFrom(ctx).udp
	t := godog.T(ctx)
	require.NoError(t, u.err)
	assert.Equal(t, showAll(u.sentMsgs), showAll(u.gotMsgs))
	return nil
}

// echobenchRunsPingPongThroughLink is the step `^echobench runs ping-pong with (\d+) connections? for (\d+) seconds?$`.
func echobenchRunsPingPongThroughLink(ctx context.Context, conns, s int) error {
	w := worldFrom(ctx)
	if err := w.startServer(); err != nil {
		return err
	}
	cfg := echobench.Config{Addr: w.server.addr, Conns: conns, Duration: time.Duration(s) * time.Second, Line: w.server.framing == tcpecho.FramingLine}
	report, err := newPingPonger(w.target).pingPong(ctx, cfg)
	w.procs.bench = report
	return err
}

// echobenchReportsMedianOfAtLeast is the step `^echobench reports a median latency of at least (\d+) milliseconds, and no errors$`.
func echobenchReportsMedianOfAtLeast(ctx context.Context, ms int) error {
	b := processesOf(ctx).bench
	if b == nil {
		return fmt.Errorf("echobench has not run")
	}
	if b.errors != 0 {
		return fmt.Errorf("echobench reported %d errors", b.errors)
	}
	if b.p50 < time.Duration(ms)*time.Millisecond {
		return fmt.Errorf("echobench reports a median latency of %v, less than %d ms", b.p50, ms)
	}
	return nil
}

// registerFaultsSteps registers the steps of this file: a faulty link: Toxiproxy for TCP, a relay for UDP.
func registerFaultsSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the link to the server adds (\d+) milliseconds each way$`, linkAddsLatency)
	sc.Step(`^the link to the server carries at most (\d+) KiB per second each way$`, linkCarriesAtMost)
	sc.Step(`^the link to the server cuts the data into pieces of about (\d+) bytes?$`, linkCutsDataIntoPieces)
	sc.Step(`^the link to the server resets every connection that sends something$`, linkResetsConnections)
	sc.Step(`^the link to the server goes silent$`, linkGoesSilent)
	sc.Step(`^the echo client reports a round trip of at least (\d+) milliseconds$`, echoClientReportsRoundTripOfAtLeast)
	sc.Step(`^echobench runs ping-pong with (\d+) connections? for (\d+) seconds?$`, echobenchRunsPingPongThroughLink)
	sc.Step(`^echobench reports a median latency of at least (\d+) milliseconds, and no errors$`, echobenchReportsMedianOfAtLeast)
	sc.Step(`^the server saw a connection end because (the client closed it|it was reset|the server shut down|it was idle|it stopped reading)$`, serverSawAConnectionEndBecause)
	sc.Step(`^the path to the UDP server drops (\d+) of every 10 datagrams each way, and sends every echo twice, out of order$`, udpPathMistreatsDatagrams)
	sc.Step(`^the UDP echo client sends (\d+) numbered messages$`, udpEchoClientSendsNumberedMessages)
	sc.Step(`^the UDP echo client gets each of them back, once, in order$`, udpEchoClientGetsEachBackOnceInOrder)
}
