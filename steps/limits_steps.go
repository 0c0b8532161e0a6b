package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/internal/procmem"
)

// names turns "A, B and C" into "client A", "client B", "client C".
func names(list string) []string {
	var out []string
	for _, n := range strings.FieldsFunc(strings.ReplaceAll(list, " and ", ","), func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, "client "+n)
	}
	return out
}

// serverAcceptsAtMostConnections is the step `^the server accepts at most (\d+) connections at once$`.
func serverAcceptsAtMostConnections(ctx context.Context, n int) error {
	w := worldFrom(ctx)
	return w.configure(func() { w.server.maxConns = n })
}

// serverClosesIdleConnections is the step `^the server closes connections idle for (\d+) milliseconds$`.
func serverClosesIdleConnections(ctx context.Context, ms int) error {
	return configureMilliseconds(ctx, ms, func(c *tcpConfig) *time.Duration { return &c.idleTimeout })
}

// serverGivesUpOnClientThatStopsReading is the step `^the server gives up on a client that reads none of its echo for (\d+) milliseconds$`.
func serverGivesUpOnClientThatStopsReading(ctx context.Context, ms int) error {
	return configureMilliseconds(ctx, ms, func(c *tcpConfig) *time.Duration { return &c.writeTimeout })
}

// clientsAreConnected is the step `^`+clientList+` are connected$`.
func clientsAreConnected(ctx context.Context, list string) error {
	for _, name := range names(list) {
		if _, err := worldFrom(ctx).connected(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// clientFindsConnectionClosedByServer is the step `^`+client+` finds its connection closed by the server$`.
func clientFindsConnectionClosedByServer(ctx context.Context, name string) error {
	w := worldFrom(ctx)
	if slices.Contains(w.clients.resetOnConnect, clientName(name)) {
		return nil
	}
	p, err := w.peer(clientName(name))
	if err != nil {
		return err
	}
	p.conn.SetReadDeadline(time.Now().Add(patience))
	n, err := p.conn.Read(make([]byte, 1))
	switch {
	case n > 0:
		return fmt.Errorf("client %s got data, not the end of its connection", name)
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return nil
	}
	return fmt.Errorf("client %s's connection was not closed: %w", name, err)
}

// serverSawConnectionsRejectedOverLimit is the step `^the server saw (\d+) connections? rejected for being over the limit$`.
func serverSawConnectionsRejectedOverLimit(ctx context.Context, n int) error {
	_, err := serverOf(ctx).events.waitFor(ctx, fmt.Sprintf("%d connections rejected", n), func(events []event) bool {
		return count(events, tcpecho.ConnRejected) == n
	})
	return err
}

// clientsAreStillServed is the step `^`+clientList+` are still served$`.
func clientsAreStillServed(ctx context.Context, list string) error {
	for _, name := range names(list) {
		p, err := worldFrom(ctx).peer(name)
		if err != nil {
			return err
		}
		if err := p.exchange([]byte("still there?\n")); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// serverClosedIdleClientAfterAtLeast is the step `^the server closed `+client+`'s connection after at least (\d+) milliseconds, because it was idle$`.
func serverClosedIdleClientAfterAtLeast(ctx context.Context, name string, ms int) error {
	w := worldFrom(ctx)
	p, err := w.peer(clientName(name))
	if err != nil {
		return err
	}
	local := p.local()
	events, err := w.server.events.waitFor(ctx, clientName(name)+"'s connection to end", func(events []event) bool {
		return closedReason(events, local) != nil
	})
	if err != nil {
		return err
	}
	// A deadline cannot fire early, so this lower bound cannot flake.
	elapsed := time.Since(p.connected)
	assert.GreaterOrEqual(godog.T(ctx), elapsed, time.Duration(ms)*time.Millisecond, "when the server closed it")
	assert.ErrorIs(godog.T(ctx), closedReason(events, local), tcpecho.ErrIdleTimeout)
	return nil
}

// clientConnectionIsStillOpen is the step `^`+client+`'s connection is still open$`.
func clientConnectionIsStillOpen(ctx context.Context, name string) error {
	w := worldFrom(ctx)
	p, err := w.peer(clientName(name))
	if err != nil {
		return err
	}
	// Still open means one more exchange works.
	return p.exchange([]byte("still open?\n"))
}

// clientThatNeverReadsSends is the step `^`+client+`, which never reads, sends (\d+) MiB$`.
func clientThatNeverReadsSends(ctx context.Context, name string, mib int) error {
	p, err := worldFrom(ctx).peerWith(clientName(name), smallReceiveBuffer)
	if err != nil {
		return err
	}
	p.flood = startFlood(p.conn, mib<<20)
	return nil
}

// serverHasReadMiBFromClient is the step `^the server has read (\d+) MiB from `+client+`$`.
func serverHasReadMiBFromClient(ctx context.Context, mib int, name string) error {
	w := worldFrom(ctx)
	local, err := w.clientAddr(name)
	if err != nil {
		return err
	}
	_, err = w.server.events.waitFor(ctx, fmt.Sprintf("the server to read %d MiB from client %s", mib, name), func(events []event) bool {
		return bytesRead(events, local) >= mib<<20
	})
	return err
}

// serverTookInLessThan is the step `^the server took in less than (\d+) MiB of the (\d+) MiB `+client+` sent$`.
func serverTookInLessThan(ctx context.Context, most, sent int, name string) error {
	w := worldFrom(ctx)
	p, err := w.peer(clientName(name))
	if err != nil {
		return err
	}
	got := bytesRead(w.server.events.snapshot(), p.local())
	assert.Less(godog.T(ctx), got, most<<20, "bytes the server read from client %s", name)
	if p.flood != nil {
		<-p.flood.done
		assert.Less(godog.T(ctx), p.flood.written, sent<<20, "client %s could not write all it wanted: the server pushed back", name)
	}
	return nil
}

// clientSendsRandomBytesReadingSlowly is the step `^`+client+` sends (\d+) MiB of random bytes, reading the echo slowly, and finishes sending$`.
func clientSendsRandomBytesReadingSlowly(ctx context.Context, name string, mib int) error {
	p, err := worldFrom(ctx).peer(clientName(name))
	if err != nil {
		return err
	}
	return p.startSlowStream(randomBytes(mib << 20))
}

// tcpserverPeakMemoryStayedUnder is the step `^tcpserver's peak resident memory stayed under (\d+) MiB$`.
func tcpserverPeakMemoryStayedUnder(ctx context.Context, mib int) error {
	w := worldFrom(ctx)
	p := w.process()
	if p == nil {
		return errors.New("tcpserver is not running as a process")
	}
	peak, err := procmem.Read(p.cmd.Process.Pid, "VmHWM")
	if err != nil {
		return err
	}
	godog.Logf(ctx, "tcpserver's peak resident memory: %d KiB", peak>>10)
	assert.Less(godog.T(ctx), peak, mib<<20, "tcpserver's peak resident memory (VmHWM)")
	return nil
}

// bytesRead adds up what the server read from the client at remote.
func bytesRead(events []event, remote string) int {
	n := 0
	for _, e := range events {
		if e.kind == tcpecho.DataRead && e.remote == remote {
			n += e.bytes
		}
	}
	return n
}

// smallReceiveBuffer makes a socket's receive buffer as small as the
// kernel allows, so that a client that never reads fills it at once.
func smallReceiveBuffer(fd uintptr) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1)
}

// configureMilliseconds sets one of the server's durations to ms
// milliseconds, before it starts.
func configureMilliseconds(ctx context.Context, ms int, field func(*tcpConfig) *time.Duration) error {
	w := worldFrom(ctx)
	return w.configure(func() { *field(&w.server.tcpConfig) = time.Duration(ms) * time.Millisecond })
}

// registerLimitsSteps registers the steps of this file: limits: too many connections, idle clients, clients that stop reading.
func registerLimitsSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the server accepts at most (\d+) connections at once$`, serverAcceptsAtMostConnections)
	sc.Step(`^the server closes connections idle for (\d+) milliseconds$`, serverClosesIdleConnections)
	sc.Step(`^the server gives up on a client that reads none of its echo for (\d+) milliseconds$`, serverGivesUpOnClientThatStopsReading)
	sc.Step(`^`+clientList+` are connected$`, clientsAreConnected)
	sc.Step(`^`+client+` finds its connection closed by the server$`, clientFindsConnectionClosedByServer)
	sc.Step(`^the server saw (\d+) connections? rejected for being over the limit$`, serverSawConnectionsRejectedOverLimit)
	sc.Step(`^`+clientList+` are still served$`, clientsAreStillServed)
	sc.Step(`^the server closed `+client+`'s connection after at least (\d+) milliseconds, because it was idle$`, serverClosedIdleClientAfterAtLeast)
	sc.Step(`^`+client+`'s connection is still open$`, clientConnectionIsStillOpen)
	sc.Step(`^`+client+`, which never reads, sends (\d+) MiB$`, clientThatNeverReadsSends)
	sc.Step(`^the server has read (\d+) MiB from `+client+`$`, serverHasReadMiBFromClient)
	sc.Step(`^the server took in less than (\d+) MiB of the (\d+) MiB `+client+` sent$`, serverTookInLessThan)
	sc.Step(`^`+client+` sends (\d+) MiB of random bytes, reading the echo slowly, and finishes sending$`, clientSendsRandomBytesReadingSlowly)
	sc.Step(`^tcpserver's peak resident memory stayed under (\d+) MiB$`, tcpserverPeakMemoryStayedUnder)
}
