package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
)

// largestMessageIs is the step `^the largest message is (\d+) bytes?$`.
func largestMessageIs(ctx context.Context, n int) error {
	w := worldFrom(ctx)
	return w.configure(func() { w.server.size = n })
}

// serverLongestLineIs is the step `^the server's longest line is (\d+) bytes$`.
func serverLongestLineIs(ctx context.Context, n int) error {
	w := worldFrom(ctx)
	return w.configure(func() { w.server.maxLine = n })
}

// clientIsConnected is the step `^`+client+` is connected$`.
func clientIsConnected(ctx context.Context, name string) error {
	_, err := worldFrom(ctx).connected(ctx, clientName(name))
	return err
}

// clientSendsText is the step `^`+client+` sends `+quoted+`$`.
func clientSendsText(ctx context.Context, name, text string) error {
	_, err := sendText(ctx, name, text)
	return err
}

// serverHasReceivedFrom is the step `^the server has received `+quoted+`
// from `+client+`$`: the client sends the text, and the step returns once
// the server has read it, so that what the scenario does next (a
// shutdown, a reset, an idle wait) finds the text in the server's hands.
func serverHasReceivedFrom(ctx context.Context, text, name string) error {
	p, err := sendText(ctx, name, text)
	if err != nil {
		return err
	}
	return worldFrom(ctx).serverHasRead(ctx, p)
}

// clientFinishesSending is the step `^`+client+` finishes sending$`.
func clientFinishesSending(ctx context.Context, name string) error {
	p, err := worldFrom(ctx).peer(clientName(name))
	if err != nil {
		return err
	}
	return p.conn.CloseWrite()
}

// clientDisconnects is the step `^`+client+` disconnects$`.
func clientDisconnects(ctx context.Context, name string) error {
	p, err := worldFrom(ctx).peer(clientName(name))
	if err != nil {
		return err
	}
	return p.conn.Close()
}

// clientResetsConnection is the step `^`+client+` resets its connection$`.
func clientResetsConnection(ctx context.Context, name string) error {
	p, err := worldFrom(ctx).peer(clientName(name))
	if err != nil {
		return err
	}
	return p.reset()
}

// clientSeesOnlyEndOfStream is the step `^`+client+` sees the end of the stream, nothing before it$`.
func clientSeesOnlyEndOfStream(ctx context.Context, name string) error {
	return receivesThenEnd(ctx, name, "")
}

// clientSendsTextReceivesBack is the step `^`+client+` sends `+quoted+` and receives it back$`.
func clientSendsTextReceivesBack(ctx context.Context, name, text string) error {
	p, b, err := peerAndText(ctx, name, text)
	if err != nil {
		return err
	}
	return p.exchange(b)
}

// serverSawNConnections is the step `^the server saw (\d+) connections$`.
func serverSawNConnections(ctx context.Context, n int) error {
	_, err := serverOf(ctx).events.waitFor(ctx, fmt.Sprintf("%d connections", n), func(events []event) bool {
		return count(events, tcpecho.ConnOpened) >= n
	})
	if err != nil {
		return err
	}
	events := serverOf(ctx).events.snapshot()
	assert.Equal(godog.T(ctx), n, count(events, tcpecho.ConnOpened), "connections the server accepted")
	return nil
}

func useFraming(ctx context.Context, name string) error {
	w := worldFrom(ctx)
	return w.configure(func() {
		w.server.framing = map[string]tcpecho.Framing{"stream": tcpecho.FramingStream, "line": tcpecho.FramingLine, "fixed": tcpecho.FramingFixed}[name]
	})
}

// peerAndText returns the named client and the bytes a step's quoted
// text spells.
func peerAndText(ctx context.Context, name, text string) (*peer, []byte, error) {
	b, err := unquote(text)
	if err != nil {
		return nil, nil, err
	}
	p, err := worldFrom(ctx).peer(clientName(name))
	return p, b, err
}

func sendText(ctx context.Context, name, text string) (*peer, error) {
	p, b, err := peerAndText(ctx, name, text)
	if err != nil {
		return nil, err
	}
	return p, p.send(b)
}

// sendPieces writes each piece only once the server has read the one
// before, so the pieces really arrive apart, however fast the machine.
func sendPieces(ctx context.Context, name, list string) error {
	pieces, err := unquoteList(list)
	if err != nil {
		return err
	}
	w := worldFrom(ctx)
	p, err := w.peer(clientName(name))
	if err != nil {
		return err
	}
	for _, piece := range pieces {
		if err := p.send(piece); err != nil {
			return err
		}
		if err := w.serverHasRead(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// sendLongLine sends n bytes of visible text and a newline, remembering the
// line for "that line".
func sendLongLine(ctx context.Context, name string, n int) error {
	p, err := worldFrom(ctx).peer(clientName(name))
	if err != nil {
		return err
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	line := bytes.Repeat([]byte(alphabet), n/len(alphabet)+1)[:n]
	p.line = append(line, '\n')
	return p.send(p.line)
}

func receives(ctx context.Context, name, text string) error {
	p, want, err := peerAndText(ctx, name, text)
	if err != nil {
		return err
	}
	got, err := p.receive(len(want))
	require.NoError(godog.T(ctx), err, "%s waiting for %s", name, show(want))
	assert.Equal(godog.T(ctx), show(want), show(got), "what %s received", name)
	return nil
}

func receivesThenEnd(ctx context.Context, name, text string) error {
	p, want, err := peerAndText(ctx, name, text)
	if err != nil {
		return err
	}
	var got []byte
	if p.stream != nil {
		// A reader has been taking in everything since the stream began.
		<-p.stream.done
		got, err = p.stream.received, p.stream.readErr
	} else {
		got, err = p.receiveAll(len(want) + 64)
	}
	require.NoError(godog.T(ctx), err, "%s reading until the server closed", name)
	assert.Equal(godog.T(ctx), show(want), show(got), "everything %s received before the server closed", name)
	return nil
}

func receivesThatLine(ctx context.Context, name string) error {
	p, err := worldFrom(ctx).peer(clientName(name))
	if err != nil {
		return err
	}
	if p.line == nil {
		return errNothing
	}
	got, err := p.receive(len(p.line))
	require.NoError(godog.T(ctx), err)
	if !bytes.Equal(got, p.line) {
		return fmt.Errorf("the line of %d bytes came back different: %s", len(p.line), show(got))
	}
	return nil
}

// allMessages waits until the server has taken want bytes as messages and
// returns the messages.
func allMessages(ctx context.Context, want int) ([][]byte, error) {
	events, err := serverOf(ctx).events.waitFor(ctx, fmt.Sprintf("messages of %d bytes in all", want), func(events []event) bool {
		return len(bytes.Join(messages(events, ""), nil)) >= want
	})
	return messages(events, ""), err
}

func sawMessages(ctx context.Context, list string) error {
	want, err := unquoteList(list)
	if err != nil {
		return err
	}
	got, err := allMessages(ctx, len(bytes.Join(want, nil)))
	if err != nil {
		return err
	}
	assert.Equal(godog.T(ctx), showAll(want), showAll(got), "the messages the server saw")
	return nil
}

// sawMessagesOfAtMost is the step `^the server saw (\d+) messages? of at
// most (\d+) bytes$`.
func sawMessagesOfAtMost(ctx context.Context, n, size int) error {
	got, err := messagesOfAllSent(ctx)
	if err != nil {
		return err
	}
	t := godog.T(ctx)
	assert.Len(t, got, n, "messages the server saw: %s", showAll(got))
	for _, m := range got {
		assert.LessOrEqual(t, len(m), size, "message %s", show(m))
	}
	return nil
}

// sawNoMessageLargerThan waits for every byte the clients sent to have been
// taken as messages, and checks that none was longer than size.
func sawNoMessageLargerThan(ctx context.Context, size int) error {
	got, err := messagesOfAllSent(ctx)
	if err != nil {
		return err
	}
	longest := 0
	for _, m := range got {
		longest = max(longest, len(m))
	}
	assert.LessOrEqual(godog.T(ctx), longest, size, "the longest of the %d messages the server saw", len(got))
	return nil
}

// messagesOfAllSent waits until every byte the scenario's clients sent has
// been taken as messages, and returns those messages.
func messagesOfAllSent(ctx context.Context) ([][]byte, error) {
	total := 0
	for _, p := range clientsOf(ctx).peers {
		total += p.sent
	}
	return allMessages(ctx, total)
}

func sawMessageSizes(ctx context.Context, list string) error {
	want := numbers(list)
	total := 0
	for _, n := range want {
		total += n
	}
	got, err := allMessages(ctx, total)
	if err != nil {
		return err
	}
	sizes := make([]int, len(got))
	for i, m := range got {
		sizes[i] = len(m)
	}
	assert.Equal(godog.T(ctx), want, sizes, "sizes of the messages the server saw")
	return nil
}

// serverReasons maps how a feature says why the server ended or refused
// a connection to the reason the server reports.
var serverReasons = map[string]error{
	"the client closed it": tcpecho.ErrClientClosed,
	"it was reset":         tcpecho.ErrClientReset,
	"the server shut down": tcpecho.ErrServerClosed,
	"it was idle":          tcpecho.ErrIdleTimeout,
	"it stopped reading":   tcpecho.ErrWriteTimeout,
	"TLS handshake":        tcpecho.ErrHandshake,
	"PROXY header":         tcpecho.ErrProxyHeader,
}

func sawConnectionEnd(ctx context.Context, name, because string) error {
	w := worldFrom(ctx)
	local, err := w.clientAddr(name)
	if err != nil {
		return err
	}
	events, err := w.server.events.waitFor(ctx, name+"'s connection to end", func(events []event) bool {
		return closedReason(events, local) != nil
	})
	if err != nil {
		return err
	}
	reason := closedReason(events, local)
	if !errors.Is(reason, serverReasons[because]) {
		return fmt.Errorf("the server saw %s's connection end because of %w, not because %s", name, reason, because)
	}
	return nil
}

// closedReason returns why the connection from remote closed, or nil
// while it is open.
func closedReason(events []event, remote string) error {
	return reasonOf(events, tcpecho.ConnClosed, remote)
}

// reasonOf returns the reason of the first event of kind on the
// connection from remote (any connection, if remote is empty), or nil.
func reasonOf(events []event, kind tcpecho.EventKind, remote string) error {
	for _, e := range events {
		if e.kind == kind && (remote == "" || e.remote == remote) {
			return e.reason
		}
	}
	return nil
}

func showAll(list [][]byte) string {
	shown := make([]string, len(list))
	for i, b := range list {
		shown[i] = show(b)
	}
	return "[" + strings.Join(shown, ", ") + "]"
}

// clientsAreEachServed is the step `^`+clientList+` are each served: `+quoted+` comes back$`.
func clientsAreEachServed(ctx context.Context, list, text string) error {
	for _, name := range names(list) {
		if err := clientSendsTextReceivesBack(ctx, name, text); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// registerServerSteps registers the steps of this file: the TCP echo server and raw clients of it.
func registerServerSteps(sc *godog.ScenarioContext) {
	sc.Step(`^a (stream|fixed|line) echo server$`, useFraming)
	sc.Step(`^the largest message is (\d+) bytes?$`, largestMessageIs)
	sc.Step(`^the server's longest line is (\d+) bytes$`, serverLongestLineIs)
	sc.Step(`^`+client+` is connected$`, clientIsConnected)
	sc.Step(`^`+client+` sends `+quoted+`$`, clientSendsText)
	sc.Step(`^the server has received `+quoted+` from `+client+`$`, serverHasReceivedFrom)
	sc.Step(`^`+client+` sends `+quotedList+`, each arriving on its own$`, sendPieces)
	sc.Step(`^`+client+` sends a line of (\d+) bytes and its newline$`, sendLongLine)
	sc.Step(`^`+client+` finishes sending$`, clientFinishesSending)
	sc.Step(`^`+client+` disconnects$`, clientDisconnects)
	sc.Step(`^`+client+` resets its connection$`, clientResetsConnection)
	sc.Step(`^`+client+` receives `+quoted+`$`, receives)
	sc.Step(`^`+client+` receives `+quoted+` and then the end of the stream$`, receivesThenEnd)
	sc.Step(`^`+client+` receives that line back$`, receivesThatLine)
	sc.Step(`^`+client+` sees the end of the stream, nothing before it$`, clientSeesOnlyEndOfStream)
	sc.Step(`^`+client+` sends `+quoted+` and receives it back$`, clientSendsTextReceivesBack)
	sc.Step(`^`+client+` is (?:still )?served: `+quoted+` comes back$`, clientSendsTextReceivesBack)
	sc.Step(`^`+clientList+` are each served: `+quoted+` comes back$`, clientsAreEachServed)
	sc.Step(`^the server saw the messages? `+quotedList+`$`, sawMessages)
	sc.Step(`^the server saw (\d+) messages? of at most (\d+) bytes$`, sawMessagesOfAtMost)
	sc.Step(`^the server saw messages of `+numberList+` bytes$`, sawMessageSizes)
	sc.Step(`^the server saw no message larger than (\d+) bytes$`, sawNoMessageLargerThan)
	sc.Step(`^the server saw `+client+`'s connection end because (the client closed it|it was reset|the server shut down|it was idle|it stopped reading)$`, sawConnectionEnd)
	sc.Step(`^the server saw (\d+) connections$`, serverSawNConnections)
}
