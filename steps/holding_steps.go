package steps

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"

	"github.com/echospec/echo/impl/tcpecho"
)

// serverHoldsAtMostKiBForAll is the step `^the server holds at most (\d+) KiB for all clients together$`.
func serverHoldsAtMostKiBForAll(ctx context.Context, kib int) error {
	w := worldFrom(ctx)
	return w.configure(func() { w.server.maxHeld = int64(kib) << 10 })
}

// serverHasReceivedUnfinishedLines is the step `^the server has received
// (\d+) KiB of a line without its newline from each of `+clientList+`$`:
// each client sends that much of a line, and the step returns once the
// server has read it all, so that what the scenario checks next finds it
// held (or echoed, over the budget).
func serverHasReceivedUnfinishedLines(ctx context.Context, kib int, list string) error {
	w := worldFrom(ctx)
	for i, name := range names(list) {
		if _, err := w.sendUnfinishedLine(name, i, kib); err != nil {
			return err
		}
	}
	for _, name := range names(list) {
		if err := w.serverHasRead(ctx, w.clients.peers[name]); err != nil {
			return err
		}
	}
	return nil
}

// clientsEachSendNewline is the step `^`+clientList+` each send its newline$`.
func clientsEachSendNewline(ctx context.Context, list string) error {
	for _, name := range names(list) {
		p := clientsOf(ctx).peers[name]
		if p == nil || p.line == nil {
			return fmt.Errorf("%s has sent no line to finish", name)
		}
		p.line = append(p.line, '\n')
		if err := p.send([]byte("\n")); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// clientsEachReceiveTheirWholeLineBack is the step `^`+clientList+` each receive their whole line back$`.
func clientsEachReceiveTheirWholeLineBack(ctx context.Context, list string) error {
	for _, name := range names(list) {
		p := clientsOf(ctx).peers[name]
		got, err := p.receive(len(p.line))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if !bytes.Equal(got, p.line) {
			return fmt.Errorf("%s: %s", name, difference(p.line, got))
		}
	}
	return nil
}

// serverEchoedUnfinishedLinesForBudget is the step `^the server echoed (\d+) unfinished lines? before (?:its|their) newline came, to stay within the budget$`.
func serverEchoedUnfinishedLinesForBudget(ctx context.Context, n int) error {
	w := worldFrom(ctx)
	// A line that the budget made the server echo early shows as a
	// message without a newline that is shorter than the longest line.
	maxLine := w.server.maxLine
	if maxLine == 0 {
		maxLine = tcpecho.DefaultMaxLine
	}
	// Lines, not messages: a line that arrives in two reads while the
	// budget is spent is echoed early in two pieces, one line still.
	early := func(events []event) int {
		lines := map[string]bool{}
		for _, e := range events {
			if e.kind == tcpecho.MessageReceived && !bytes.HasSuffix(e.message, []byte("\n")) && len(e.message) < maxLine {
				lines[e.remote] = true
			}
		}
		return len(lines)
	}
	events, err := w.server.events.waitFor(ctx, fmt.Sprintf("%d lines echoed before their newline", n), func(events []event) bool { return early(events) >= n })
	if err != nil {
		return err
	}
	assert.Equal(godog.T(ctx), n, early(events), "unfinished lines echoed early")
	return nil
}

// tcpserverRunsWithDefaultsAndNoEvents is the step `^tcpserver -framing (stream|line|fixed) is running with its other defaults and no event stream$`.
func tcpserverRunsWithDefaultsAndNoEvents(ctx context.Context, framing string) error {
	w := worldFrom(ctx)
	if err := needBinaries(ctx); err != nil {
		return err
	}
	p, err := startProcess(w.target.Bin, "tcpserver", []string{"-framing", framing}, processOptions{events: "none"})
	if err != nil {
		return err
	}
	w.use(&processService{p: p})
	return nil
}

// clientsEachSendUnfinishedLine is the step `^(\d+) clients each send (\d+) KiB of a line without its newline$`.
func clientsEachSendUnfinishedLine(ctx context.Context, n, kib int) error {
	w := worldFrom(ctx)
	for i := range n {
		p, err := w.sendUnfinishedLine(fmt.Sprintf("holding client %d", i+1), i, kib)
		if err != nil {
			return err
		}
		w.clients.holders = append(w.clients.holders, p)
	}
	return nil
}

// newClientIsServedWithin is the step `^a new client is served within
// (\d+) seconds?: `+quoted+` comes back$`.
func newClientIsServedWithin(ctx context.Context, s int, text string) error {
	w := worldFrom(ctx)
	start := time.Now()
	p, err := w.peer("a new client")
	if err != nil {
		return err
	}
	msg, err := unquote(text)
	if err != nil {
		return err
	}
	if err := p.exchange(msg); err != nil {
		return err
	}
	took := time.Since(start)
	godog.Logf(ctx, "the new client was served in %v", took)
	assert.Less(godog.T(ctx), took, time.Duration(s)*time.Second, "how long the new client waited for its echo")
	return nil
}

// eachSendsNewlineAndReceivesWholeLine is the step `^each of them sends its newline and receives its whole line back$`.
func eachSendsNewlineAndReceivesWholeLine(ctx context.Context) error {
	for i, p := range clientsOf(ctx).holders {
		p.line = append(p.line, '\n')
		if err := p.send([]byte("\n")); err != nil {
			return fmt.Errorf("holding client %d: %w", i+1, err)
		}
		got, err := p.receive(len(p.line))
		if err != nil {
			return fmt.Errorf("holding client %d: %w", i+1, err)
		}
		if !bytes.Equal(got, p.line) {
			return fmt.Errorf("holding client %d: %s", i+1, difference(p.line, got))
		}
	}
	return nil
}

// serverAcceptsAtMostConnectionsPerAddress is the step `^the server accepts at most (\d+) connections from one address$`.
func serverAcceptsAtMostConnectionsPerAddress(ctx context.Context, n int) error {
	w := worldFrom(ctx)
	return w.configure(func() { w.server.maxPerIP = n })
}

// clientsAreConnectedFrom is the step `^`+clientList+` are connected from (127\.\d+\.\d+\.\d+)$`.
func clientsAreConnectedFrom(ctx context.Context, list, ip string) error {
	w := worldFrom(ctx)
	for _, name := range names(list) {
		w.clients.sources[name] = ip
		if _, err := w.connected(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// clientsConnectFromAndSendNothing is the step `^`+clientList+` connect from (127\.\d+\.\d+\.\d+) and send nothing$`:
// unlike "are connected", it does not wait for the server to serve them,
// which, behind a PROXY header that never comes, it never does.
func clientsConnectFromAndSendNothing(ctx context.Context, list, ip string) error {
	w := worldFrom(ctx)
	for _, name := range names(list) {
		w.clients.sources[name] = ip
		// A connection the server resets at once may be reset before
		// the dial returns: that client is refused, which a later step
		// checks on the server's side.
		if _, err := w.peer(name); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			return err
		}
	}
	return nil
}

// clientConnectsFrom is the step `^`+client+` connects from (127\.\d+\.\d+\.\d+)$`.
func clientConnectsFrom(ctx context.Context, name, ip string) error {
	w := worldFrom(ctx)
	w.clients.sources[clientName(name)] = ip
	return connects(ctx, name)
}

// serverSawConnectionsRejectedPerAddress is the step `^the server saw (\d+) connections? rejected for too many from one address$`.
func serverSawConnectionsRejectedPerAddress(ctx context.Context, n int) error {
	_, err := serverOf(ctx).events.waitFor(ctx, fmt.Sprintf("%d connections rejected for their address", n), func(events []event) bool {
		return countFor(events, tcpecho.ConnRejected, tcpecho.ErrTooManyFromSource) == n
	})
	return err
}

// clientSendsLinesThenStopsReading is the step `^`+client+`(, speaking TLS,)? sends lines without end, reading the echo for (\d+) milliseconds, then stops reading$`.
func clientSendsLinesThenStopsReading(ctx context.Context, name, overTLS string, ms int) error {
	w := worldFrom(ctx)
	// A small receive buffer, so that once the client stops reading,
	// its kernel soon stops taking bytes for it too.
	p, err := w.peerWith(clientName(name), smallReceiveBuffer)
	if err != nil {
		return err
	}
	var stream net.Conn = p.conn
	var clock *readClock
	if overTLS != "" {
		ca, err := w.testAuthority()
		if err != nil {
			return err
		}
		// crypto/tls reads ahead: its last Read may take what it read
		// from the socket earlier, so the last read is the socket's.
		clock = &readClock{Conn: p.conn}
		tc := tls.Client(clock, &tls.Config{ServerName: "localhost", RootCAs: ca.Pool, MinVersion: tls.VersionTLS12})
		tc.SetDeadline(time.Now().Add(patience))
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("%s's TLS handshake: %w", name, err)
		}
		stream = tc
	}
	stopped, ended, done := stopReadingAfter(stream, clock, time.Duration(ms)*time.Millisecond)
	w.scratch.closers = append(w.scratch.closers, func() { p.conn.Close(); <-done })
	p.lastRead, p.sendEnded = stopped, ended
	return nil
}

// serverLetClientGoAfterItStoppedReading is the step `^the server let `+client+` go because it stopped reading, (\d+) to (\d+) milliseconds after its last read$`.
func serverLetClientGoAfterItStoppedReading(ctx context.Context, name string, from, to int) error {
	w := worldFrom(ctx)
	p := w.clients.peers[clientName(name)]
	if p == nil || p.lastRead == nil {
		return fmt.Errorf("client %s has not stopped reading", name)
	}
	local := p.local()
	events, err := w.server.events.waitFor(ctx, clientName(name)+"'s connection to end", func(events []event) bool {
		return closedEvent(events, local) != nil
	})
	if err != nil {
		return err
	}
	closed := closedEvent(events, local)
	if !errors.Is(closed.reason, tcpecho.ErrWriteTimeout) {
		return fmt.Errorf("client %s's connection ended because %w, not because it stopped reading", name, closed.reason)
	}
	var last lastRead
	select {
	case last = <-p.lastRead:
	case <-time.After(patience):
		return fmt.Errorf("client %s never stopped reading", name)
	}
	// When the client was let go: the first sign of it, the server's
	// report of the close or the client's next write being refused. Each
	// comes after the close; on a machine busy with every other scenario
	// either may come late (a server process's event reached the scenario
	// up to 2.5 s late; the client's goroutine, in-process under -race,
	// up to 0.8 s), so the earlier is the tighter bound.
	var ended sendEnded
	select {
	case ended = <-p.sendEnded:
	case <-time.After(patience):
		return fmt.Errorf("client %s's sending never failed after the server let it go", name)
	}
	if !errors.Is(ended.err, syscall.ECONNRESET) && !errors.Is(ended.err, syscall.EPIPE) {
		return fmt.Errorf("client %s's sending ended with %w, not with the server closing its connection", name, ended.err)
	}
	letGo := minTime(ended.at, closed.at)
	godog.T(ctx).Logf("%s was let go %v after its last read began, %v after it returned (the server's report %v, the refused write %v)", name, letGo.Sub(last.began).Round(time.Millisecond), letGo.Sub(last.returned).Round(time.Millisecond),
		closed.at.Sub(last.returned).Round(time.Millisecond), ended.at.Sub(last.returned).Round(time.Millisecond))
	assert.GreaterOrEqual(godog.T(ctx), letGo.Sub(last.began), time.Duration(from)*time.Millisecond, "how long after its last read began client %s was let go", name)
	assert.LessOrEqual(godog.T(ctx), letGo.Sub(last.returned), time.Duration(to)*time.Millisecond, "how long after its last read returned client %s was let go", name)
	return nil
}

// sendUnfinishedLine has the named client, the i-th of its kind, send kib
// KiB of a line without its newline. Each client's line is its own byte,
// so that lines that came back to the wrong client, or mixed, would show.
func (w *world) sendUnfinishedLine(name string, i, kib int) (*peer, error) {
	p, err := w.peer(name)
	if err != nil {
		return nil, err
	}
	p.line = bytes.Repeat([]byte{byte('a' + i%26)}, kib<<10)
	if err := p.send(p.line); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// closedEvent returns the ConnClosed event of the connection from remote.
func closedEvent(events []event, remote string) *event {
	for i := range events {
		if events[i].kind == tcpecho.ConnClosed && events[i].remote == remote {
			return &events[i]
		}
	}
	return nil
}

// stopReadingAfter makes the client send lines as fast as the server takes
// them, and read the echo for d, then stop reading while it goes on
// sending. stopped gives when its last read began and returned; ended,
// the time its sending failed (the server closed the connection, or the
// write's own deadline passed) and why; done closes once the sending has
// ended.
func stopReadingAfter(c net.Conn, clock *readClock, d time.Duration) (stopped <-chan lastRead, ended <-chan sendEnded, done <-chan struct{}) {
	last := make(chan lastRead, 1)
	failed := make(chan sendEnded, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		chunk := bytes.Repeat([]byte("a line the client will stop reading\n"), 1024)
		c.SetWriteDeadline(time.Now().Add(d + 2*patience))
		for {
			if _, err := c.Write(chunk); err != nil {
				failed <- sendEnded{at: time.Now(), err: err}
				return
			}
		}
	}()
	go func() {
		buf := make([]byte, 64<<10)
		until := time.Now().Add(d)
		// At least one read, however late a busy machine runs this
		// goroutine: a client that never read has no last read to count
		// from.
		c.SetReadDeadline(until.Add(patience))
		at := lastRead{began: time.Now()}
		if _, err := c.Read(buf); err != nil {
			at.returned = at.began
			last <- at
			return
		}
		at.returned = time.Now()
		c.SetReadDeadline(until)
		for {
			began := time.Now()
			if _, err := c.Read(buf); err != nil {
				break
			}
			at = lastRead{began: began, returned: time.Now()}
		}
		if clock != nil {
			at = clock.last()
		}
		last <- at
	}()
	return last, failed, finished
}

// lastRead is when a client's last read began and returned. Its kernel
// tells the server of the room the read makes at some moment between,
// and a busy machine may run the client late on either side: a bound
// below counts from the beginning, a bound above from the return.
type lastRead struct{ began, returned time.Time }

// readClock is a connection that knows when its last read that got bytes
// began and returned, for a reader above it that reads ahead, such as
// crypto/tls, whose own reads wait for whole records.
type readClock struct {
	net.Conn
	mu     sync.Mutex
	lastAt lastRead
}

func (r *readClock) Read(b []byte) (int, error) {
	began := time.Now()
	n, err := r.Conn.Read(b)
	if n > 0 {
		r.mu.Lock()
		r.lastAt = lastRead{began: began, returned: time.Now()}
		r.mu.Unlock()
	}
	return n, err
}

func (r *readClock) last() lastRead {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastAt
}

// sendEnded is when and why a client's sending ended.
type sendEnded struct {
	at  time.Time
	err error
}

// connects connects the named client, which the server may close at once.
func connects(ctx context.Context, name string) error {
	w := worldFrom(ctx)
	_, err := w.peer(clientName(name))
	if errors.Is(err, syscall.ECONNRESET) {
		// The server closed it so fast that the connect itself saw it.
		w.clients.resetOnConnect = append(w.clients.resetOnConnect, clientName(name))
		return nil
	}
	return err
}

// registerHoldingSteps registers the steps of this file: what clients make the server hold, and from which addresses.
func registerHoldingSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the server holds at most (\d+) KiB for all clients together$`, serverHoldsAtMostKiBForAll)
	sc.Step(`^the server has received (\d+) KiB of a line without its newline from each of `+clientList+`$`, serverHasReceivedUnfinishedLines)
	sc.Step(`^`+clientList+` each send its newline$`, clientsEachSendNewline)
	sc.Step(`^`+clientList+` each receive their whole line back$`, clientsEachReceiveTheirWholeLineBack)
	sc.Step(`^the server echoed (\d+) unfinished lines? before (?:its|their) newline came, to stay within the budget$`, serverEchoedUnfinishedLinesForBudget)
	sc.Step(`^tcpserver -framing (stream|line|fixed) is running with its other defaults and no event stream$`, tcpserverRunsWithDefaultsAndNoEvents)
	sc.Step(`^(\d+) clients each send (\d+) KiB of a line without its newline$`, clientsEachSendUnfinishedLine)
	sc.Step(`^a new client is served within (\d+) seconds?: `+quoted+` comes back$`, newClientIsServedWithin)
	sc.Step(`^each of them sends its newline and receives its whole line back$`, eachSendsNewlineAndReceivesWholeLine)
	sc.Step(`^the server accepts at most (\d+) connections from one address$`, serverAcceptsAtMostConnectionsPerAddress)
	sc.Step(`^`+clientList+` are connected from (127\.\d+\.\d+\.\d+)$`, clientsAreConnectedFrom)
	sc.Step(`^`+client+` connects from (127\.\d+\.\d+\.\d+)$`, clientConnectsFrom)
	sc.Step(`^`+clientList+` connect from (127\.\d+\.\d+\.\d+) and send nothing$`, clientsConnectFromAndSendNothing)
	sc.Step(`^the server saw (\d+) connections? rejected for too many from one address$`, serverSawConnectionsRejectedPerAddress)
	sc.Step(`^`+client+`(, speaking TLS,)? sends lines without end, reading the echo for (\d+) milliseconds, then stops reading$`, clientSendsLinesThenStopsReading)
	sc.Step(`^the server let `+client+` go because it stopped reading, (\d+) to (\d+) milliseconds after its last read$`, serverLetClientGoAfterItStoppedReading)
	sc.Step(`^`+client+` connects$`, connects)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
