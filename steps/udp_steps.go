package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/udpecho"
)

// udpEchoServer is the step `^a UDP echo server$`.
func udpEchoServer(ctx context.Context) error { return nil }

// reflectionGuardIsTurnedOff is the step `^the reflection guard is turned off$`.
func reflectionGuardIsTurnedOff(ctx context.Context) error {
	u := worldFrom(ctx).udp
	if u.started() {
		return errors.New("the UDP server is already running; configure it before any client sends")
	}
	u.guardOff = true
	return nil
}

// clientSendsDatagramText is the step `^`+client+` sends the datagram `+quoted+`$`.
func clientSendsDatagramText(ctx context.Context, name, text string) error {
	b, err := unquote(text)
	if err != nil {
		return err
	}
	return sendDatagram(ctx, clientName(name), b)
}

// clientSendsEmptyDatagram is the step `^`+client+` sends an empty datagram$`.
func clientSendsEmptyDatagram(ctx context.Context, name string) error {
	return sendDatagram(ctx, clientName(name), []byte{})
}

// clientSendsDatagramOfSize is the step `^`+client+` sends a datagram of (\d+) bytes$`.
func clientSendsDatagramOfSize(ctx context.Context, name string, n int) error {
	return sendDatagram(ctx, clientName(name), patterned(n))
}

// clientSendsLargestDatagram is the step `^`+client+` sends the largest datagram$`.
func clientSendsLargestDatagram(ctx context.Context, name string) error {
	return sendDatagram(ctx, clientName(name), patterned(worldFrom(ctx).target.MaxDatagram))
}

// clientReceivesDatagramText is the step `^`+client+` receives the datagram `+quoted+`$`.
func clientReceivesDatagramText(ctx context.Context, name, text string) error {
	want, err := unquote(text)
	if err != nil {
		return err
	}
	return receivesDatagrams(ctx, clientName(name), [][]byte{want})
}

// clientReceivesDatagramsTexts is the step `^`+client+` receives the datagrams `+quotedList+`$`.
func clientReceivesDatagramsTexts(ctx context.Context, name, list string) error {
	want, err := unquoteList(list)
	if err != nil {
		return err
	}
	return receivesDatagrams(ctx, clientName(name), want)
}

// clientReceivesEmptyDatagram is the step `^`+client+` receives an empty datagram$`.
func clientReceivesEmptyDatagram(ctx context.Context, name string) error {
	return receivesDatagrams(ctx, clientName(name), [][]byte{{}})
}

// clientReceivesThatDatagramBack is the step `^`+client+` receives that datagram back$`.
func clientReceivesThatDatagramBack(ctx context.Context, name string) error {
	p, err := worldFrom(ctx).udp.peer(clientName(name))
	if err != nil {
		return err
	}
	return receivesDatagrams(ctx, clientName(name), [][]byte{p.sent})
}

// clientOnPortSendsDatagram is the step `^a client on port (\d+) sends the datagram `+quoted+`$`.
func clientOnPortSendsDatagram(ctx context.Context, port int, text string) error {
	b, err := unquote(text)
	if err != nil {
		return err
	}
	u := worldFrom(ctx).udp
	p, err := u.peerOnPort(port)
	if errors.Is(err, errNeedsPrivilege) {
		return skipScenario(ctx, "%v; port 2049 checks the guard without privileges", err)
	}
	if err != nil {
		return err
	}
	return p.send(u.addr, b)
}

// serverRefusesDatagramFromPort is the step `^the server refuses the datagram from port (\d+) because (it is a service port|it is the NFS port)$`.
func serverRefusesDatagramFromPort(ctx context.Context, port int, because string) error {
	want := map[string]error{"it is a service port": udpecho.ErrServicePort, "it is the NFS port": udpecho.ErrNFSPort}[because]
	events, err := worldFrom(ctx).udp.events.waitFor(ctx, fmt.Sprintf("the datagram from port %d to be refused", port), func(events []udpEvent) bool {
		return refusedFrom(events, port) != nil
	})
	if err != nil {
		return err
	}
	assert.ErrorIs(godog.T(ctx), refusedFrom(events, port).reason, want)
	return nil
}

// clientOnOrdinaryPortStillServed is the step `^a client on an ordinary port still gets `+quoted+` back$`.
func clientOnOrdinaryPortStillServed(ctx context.Context, text string) error {
	b, err := unquote(text)
	if err != nil {
		return err
	}
	if err := sendDatagram(ctx, "a client on an ordinary port", b); err != nil {
		return err
	}
	return receivesDatagrams(ctx, "a client on an ordinary port", [][]byte{b})
}

// clientOnPortReceivesDatagram is the step `^the client on port (\d+) receives the datagram `+quoted+`$`.
func clientOnPortReceivesDatagram(ctx context.Context, port int, text string) error {
	want, err := unquote(text)
	if err != nil {
		return err
	}
	u := worldFrom(ctx).udp
	p, err := u.peerOnPort(port)
	if err != nil {
		return err
	}
	got, err := p.receive(u.addr)
	require.NoError(godog.T(ctx), err)
	assert.Equal(godog.T(ctx), show(want), show(got))
	return nil
}

// clientOnPortReceivedNothing is the step `^the client on port (\d+) received nothing$`.
func clientOnPortReceivedNothing(ctx context.Context, port int) error {
	// The server answers datagrams in order, so once a later datagram's
	// echo is back, any answer to this client would be waiting already.
	p, err := worldFrom(ctx).udp.peerOnPort(port)
	if err != nil {
		return err
	}
	waiting, err := p.pending()
	if err != nil {
		return err
	}
	if waiting {
		return fmt.Errorf("a datagram came back to the client on port %d", port)
	}
	return nil
}

func sendDatagram(ctx context.Context, name string, b []byte) error {
	u := worldFrom(ctx).udp
	p, err := u.peer(name)
	if err != nil {
		return err
	}
	return p.send(u.addr, b)
}

// patterned returns n bytes with a prime period, so that no two long
// stretches are alike and a cut or shifted payload shows.
func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// receivesDatagrams reads as many datagrams as want has, from the server,
// and checks each payload exactly: a padded or cut datagram is a failure.
func receivesDatagrams(ctx context.Context, name string, want [][]byte) error {
	u := worldFrom(ctx).udp
	p, err := u.peer(name)
	if err != nil {
		return err
	}
	t := godog.T(ctx)
	for i, w := range want {
		got, err := p.receive(p.from(u.addr))
		require.NoError(t, err, "%s waiting for datagram %d of %d", name, i+1, len(want))
		if !bytes.Equal(got, w) {
			return fmt.Errorf("%s's datagram %d differs: %s", name, i+1, difference(w, got))
		}
	}
	return nil
}

func refusedFrom(events []udpEvent, port int) *udpEvent {
	for i, e := range events {
		if e.kind == udpecho.Refused && int(e.source.Port()) == port {
			return &events[i]
		}
	}
	return nil
}

// udpEchoClientWaitsAndRetries is the step `^the UDP echo client waits (\d+) milliseconds for each echo and retries (\d+) times?$`.
func udpEchoClientWaitsAndRetries(ctx context.Context, ms, retries int) error {
	u := worldFrom(ctx).udp
	u.dialer.Timeout, u.dialer.Retries = time.Duration(ms)*time.Millisecond, retries
	return nil
}

// udpServerThatReceivesDatagramsButNeverAnswers is the step `^a UDP server that receives datagrams but never answers$`.
func udpServerThatReceivesDatagramsButNeverAnswers(ctx context.Context) error {
	u := worldFrom(ctx).udp
	s, err := startSilent()
	if err != nil {
		return err
	}
	u.silent, u.elsewhere = s, s.conn.LocalAddr().String()
	return nil
}

// udpAddressWhereNothingListens is the step `^a UDP address where nothing listens$`.
func udpAddressWhereNothingListens(ctx context.Context) error {
	// A port that was just bound and is free again: the host answers
	// datagrams to it with "port unreachable".
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	worldFrom(ctx).udp.elsewhere = pc.LocalAddr().String()
	return pc.Close()
}

// udpEchoClientSendsText is the step `^the UDP echo client sends `+quoted+`$`.
func udpEchoClientSendsText(ctx context.Context, text string) error {
	msg, err := unquote(text)
	if err != nil {
		return err
	}
	u := worldFrom(ctx).udp
	c, err := u.echoClient()
	if err != nil {
		return err
	}
	start := time.Now()
	got, err := c.echo(ctx, msg)
	u.took = time.Since(start)
	u.got, u.err = nil, err // what the client reports is for a Then step to judge
	if len(got) > 0 {
		u.got = got[0]
	}
	return nil
}

// udpEchoClientTookAtLeast is the step `^the UDP echo client took at least (\d+) milliseconds$`.
func udpEchoClientTookAtLeast(ctx context.Context, ms int) error {
	u := worldFrom(ctx).udp
	assert.GreaterOrEqual(godog.T(ctx), u.took, time.Duration(ms)*time.Millisecond, "how long the UDP echo client tried")
	return nil
}

// udpEchoClientGetsTextBack is the step `^the UDP echo client gets `+quoted+` back$`.
func udpEchoClientGetsTextBack(ctx context.Context, text string) error {
	want, err := unquote(text)
	if err != nil {
		return err
	}
	u := worldFrom(ctx).udp
	t := godog.T(ctx)
	require.NoError(t, u.err)
	assert.Equal(t, show(want), show(u.got))
	return nil
}

// udpEchoClientReportsNoEcho is the step `^the UDP echo client reports no echo after (\d+) attempts(?: because (nothing came in time|the host refused))?$`.
func udpEchoClientReportsNoEcho(ctx context.Context, attempts int, because string) error {
	u := worldFrom(ctx).udp
	t := godog.T(ctx)
	if u.err == nil {
		return errors.New("the UDP echo client reported no problem")
	}
	require.ErrorIs(t, u.err, udpecho.ErrNoEcho)
	assert.Contains(t, u.err.Error(), fmt.Sprintf("after %d attempts", attempts))
	if because != "" {
		assert.ErrorIs(t, u.err, udpClientErrors.named(because), "the UDP echo client reported: %v", u.err)
	}
	return nil
}

// silentServerReceivedTimes is the step `^the silent server received `+quoted+` (\d+) times$`.
func silentServerReceivedTimes(ctx context.Context, text string, n int) error {
	want, err := unquote(text)
	if err != nil {
		return err
	}
	got, err := worldFrom(ctx).udp.silent.log.waitFor(ctx, fmt.Sprintf("%d datagrams", n), func(d [][]byte) bool { return len(d) >= n })
	if err != nil {
		return err
	}
	assert.Len(godog.T(ctx), got, n)
	for _, d := range got {
		assert.Equal(godog.T(ctx), show(want), show(d))
	}
	return nil
}

// everyUdpEchoClientGetsOwnMessagesBack is the step `^every UDP echo client gets its own messages back$`.
func everyUdpEchoClientGetsOwnMessagesBack(ctx context.Context) error {
	t := godog.T(ctx)
	for i, m := range worldFrom(ctx).udp.crowd {
		if assert.NoError(t, m.err, "UDP echo client %d", i+1) {
			assert.Equal(t, m.want, m.got, "what UDP echo client %d got back", i+1)
		}
	}
	return nil
}

// serverSawDatagramsFromPorts is the step `^the server saw datagrams from (\d+) different ports$`.
func serverSawDatagramsFromPorts(ctx context.Context, n int) error {
	events, err := worldFrom(ctx).udp.events.waitFor(ctx, fmt.Sprintf("datagrams from %d ports", n), func(events []udpEvent) bool {
		return len(sources(events)) >= n
	})
	if err != nil {
		return err
	}
	assert.Len(godog.T(ctx), sources(events), n)
	return nil
}

// sources returns the addresses the server answered datagrams from.
func sources(events []udpEvent) map[netip.AddrPort]bool {
	seen := map[netip.AddrPort]bool{}
	for _, e := range events {
		if e.kind == udpecho.Received {
			seen[e.source] = true
		}
	}
	return seen
}

// udpCrowdSends runs n of the project's UDP clients at once, each with the
// default Dialer but for retries, sending its own messages.
func udpCrowdSends(ctx context.Context, n, messages int) error {
	u := worldFrom(ctx).udp
	if err := u.startServer(); err != nil {
		return err
	}
	u.crowd = make([]udpCrowdMember, n)
	d := udpecho.Dialer{Retries: 3}
	for i := range u.crowd {
		m := &u.crowd[i]
		for j := range messages {
			m.want = append(m.want, fmt.Appendf(nil, "client %d message %d", i+1, j+1))
		}
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range u.crowd {
		m := &u.crowd[i]
		c := newUDPEchoer(u.target, d, u.addr)
		u.closers = append(u.closers, c.close)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			m.got, m.err = c.echo(ctx, m.want...)
		}()
	}
	close(start)
	wg.Wait()
	return nil
}

// echoClient returns a new UDP echo client for where the scenario's
// client sends: somewhere else, if the scenario said so, or our server,
// started if need be. It is closed when the scenario ends.
func (u *udpWorld) echoClient() (udpEchoer, error) {
	addr := u.elsewhere
	if addr == "" {
		if err := u.startServer(); err != nil {
			return nil, err
		}
		addr = u.addr
	}
	c := newUDPEchoer(u.target, u.dialer, addr)
	u.closers = append(u.closers, c.close)
	return c, nil
}

// registerUDPSteps registers the steps of this file: the UDP echo server and raw clients of it; The project's UDP client.
func registerUDPSteps(sc *godog.ScenarioContext) {
	sc.Step(`^a UDP echo server$`, udpEchoServer)
	sc.Step(`^the reflection guard is turned off$`, reflectionGuardIsTurnedOff)
	sc.Step(`^`+client+` sends the datagram `+quoted+`$`, clientSendsDatagramText)
	sc.Step(`^`+client+` sends the datagram `+quoted+` to (\S+)$`, clientSendsDatagramTo)
	sc.Step(`^`+client+` receives the datagram `+quoted+` from (\S+)$`, clientReceivesDatagramFrom)
	sc.Step(`^a UDP echo server listening on (0\.0\.0\.0|\[::\])$`, udpServerListeningOn)
	sc.Step(`^the echo comes back from the address the datagram was sent to$`, echoComesFromAddressSentTo)
	sc.Step(`^the server saw the datagram come to (\S+)$`, serverSawDatagramComeTo)
	sc.Step(`^`+client+` sends an empty datagram$`, clientSendsEmptyDatagram)
	sc.Step(`^`+client+` sends a datagram of (\d+) bytes$`, clientSendsDatagramOfSize)
	sc.Step(`^`+client+` sends the largest datagram$`, clientSendsLargestDatagram)
	sc.Step(`^`+client+` receives the datagram `+quoted+`$`, clientReceivesDatagramText)
	sc.Step(`^`+client+` receives the datagrams `+quotedList+`$`, clientReceivesDatagramsTexts)
	sc.Step(`^`+client+` receives an empty datagram$`, clientReceivesEmptyDatagram)
	sc.Step(`^`+client+` receives that datagram back$`, clientReceivesThatDatagramBack)
	sc.Step(`^a client on port (\d+) sends the datagram `+quoted+`$`, clientOnPortSendsDatagram)
	sc.Step(`^the server refuses the datagram from port (\d+) because (it is a service port|it is the NFS port)$`, serverRefusesDatagramFromPort)
	sc.Step(`^a client on an ordinary port still gets `+quoted+` back$`, clientOnOrdinaryPortStillServed)
	sc.Step(`^the client on port (\d+) receives the datagram `+quoted+`$`, clientOnPortReceivesDatagram)
	sc.Step(`^the client on port (\d+) received nothing$`, clientOnPortReceivedNothing)
	sc.Step(`^the UDP echo client waits (\d+) milliseconds for each echo and retries (\d+) times?$`, udpEchoClientWaitsAndRetries)
	sc.Step(`^a UDP server that receives datagrams but never answers$`, udpServerThatReceivesDatagramsButNeverAnswers)
	sc.Step(`^a UDP address where nothing listens$`, udpAddressWhereNothingListens)
	sc.Step(`^the UDP echo client sends `+quoted+`$`, udpEchoClientSendsText)
	sc.Step(`^the UDP echo client took at least (\d+) milliseconds$`, udpEchoClientTookAtLeast)
	sc.Step(`^the UDP echo client gets `+quoted+` back$`, udpEchoClientGetsTextBack)
	sc.Step(`^the UDP echo client reports no echo after (\d+) attempts(?: because (nothing came in time|the host refused))?$`, udpEchoClientReportsNoEcho)
	sc.Step(`^the silent server received `+quoted+` (\d+) times$`, silentServerReceivedTimes)
	sc.Step(`^(\d+) UDP echo clients each send (\d+) messages at the same time$`, udpCrowdSends)
	sc.Step(`^every UDP echo client gets its own messages back$`, everyUdpEchoClientGetsOwnMessagesBack)
	sc.Step(`^the server saw datagrams from (\d+) different ports$`, serverSawDatagramsFromPorts)
}

// udpServerListeningOn is the step `^a UDP echo server listening on (0\.0\.0\.0|\[::\])$`.
func udpServerListeningOn(ctx context.Context, wildcard string) error {
	u := worldFrom(ctx).udp
	if u.started() {
		return errors.New("the UDP server is already running; say where it listens before any client sends")
	}
	u.listen = net.JoinHostPort(strings.Trim(wildcard, "[]"), "0")
	return nil
}

// clientSendsDatagramTo is the step `^`+client+` sends the datagram `+quoted+` to (\S+)$`.
func clientSendsDatagramTo(ctx context.Context, name, text, host string) error {
	b, p, err := textAndPeer(ctx, name, text)
	if err != nil {
		return err
	}
	return p.send(worldFrom(ctx).udp.addrOn(host), b)
}

// clientReceivesDatagramFrom is the step `^`+client+` receives the datagram `+quoted+` from (\S+)$`.
func clientReceivesDatagramFrom(ctx context.Context, name, text, host string) error {
	want, p, err := textAndPeer(ctx, name, text)
	if err != nil {
		return err
	}
	got, err := p.receive(worldFrom(ctx).udp.addrOn(host))
	if err != nil {
		return err
	}
	assert.Equal(godog.T(ctx), show(want), show(got))
	return nil
}

// textAndPeer is a step's quoted text, unquoted, and its client.
func textAndPeer(ctx context.Context, name, text string) ([]byte, *udpPeer, error) {
	b, err := unquote(text)
	if err != nil {
		return nil, nil, err
	}
	p, err := worldFrom(ctx).udp.peer(clientName(name))
	return b, p, err
}

// echoComesFromAddressSentTo is the step `^the echo comes back from the address the datagram was sent to$`.
func echoComesFromAddressSentTo(ctx context.Context) error {
	p, err := worldFrom(ctx).udp.peer(clientName("a client"))
	if err != nil {
		return err
	}
	if p.to == nil {
		return errors.New("no datagram was sent")
	}
	got, err := p.receive(p.to.String())
	if err != nil {
		return err
	}
	if !bytes.Equal(got, p.sent) {
		return fmt.Errorf("the echo differs: %s", difference(p.sent, got))
	}
	return nil
}

// serverSawDatagramComeTo is the step `^the server saw the datagram come to (\S+)$`.
func serverSawDatagramComeTo(ctx context.Context, host string) error {
	u := worldFrom(ctx).udp
	want := u.addrOn(host)
	_, err := u.events.waitFor(ctx, "the datagram's event naming "+want+" as where it came", func(events []udpEvent) bool {
		for _, e := range events {
			if e.kind == udpecho.Received && e.local.String() == want {
				return true
			}
		}
		return false
	})
	return err
}

// addrOn is the server's port on host.
func (u *udpWorld) addrOn(host string) string {
	_, port, err := net.SplitHostPort(u.addr)
	if err != nil {
		return u.addr
	}
	return net.JoinHostPort(host, port)
}
