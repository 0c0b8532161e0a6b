package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/internal/cli"
	"github.com/echospec/echo/steps/articlebugs"
)

// echoClient is the project's TCP client as a scenario drives it: how it
// is set up, and what its last action returned.
type echoClient struct {
	dialer   tcpecho.Dialer
	tlsFlags []string  // tcpclient's flags for dialer.TLSConfig
	c        tcpEchoer // once it has sent a message
	got      []byte
	err      error
}

func (e *echoClient) close() {
	if e.c != nil {
		e.c.close()
	}
}

// echoClientUsesFramingAndWaits is the step `^the echo client uses (line|fixed) framing and waits at most (\d+) seconds? for an echo$`.
func echoClientUsesFramingAndWaits(ctx context.Context, framing string, s int) error {
	w := worldFrom(ctx)
	if err := w.clients.echo.dialer.Framing.UnmarshalText([]byte(framing)); err != nil {
		return err
	}
	w.clients.echo.dialer.Timeout = time.Duration(s) * time.Second
	return nil
}

// echoClientUsesFixedFramingWithPieces is the step `^the echo client uses fixed framing with pieces of at most (\d+) bytes$`.
func echoClientUsesFixedFramingWithPieces(ctx context.Context, n int) error {
	w := worldFrom(ctx)
	w.clients.echo.dialer.Framing, w.clients.echo.dialer.Size = tcpecho.FramingFixed, n
	return nil
}

// echoClientWaitsMilliseconds is the step `^the echo client waits at most (\d+) milliseconds for an echo$`.
func echoClientWaitsMilliseconds(ctx context.Context, ms int) error {
	clientsOf(ctx).echo.dialer.Timeout = time.Duration(ms) * time.Millisecond
	return nil
}

// brokenServerThatAnswersEveryLineWithText is the step `^a broken server that answers every line with `+quoted+`$`.
func brokenServerThatAnswersEveryLineWithText(ctx context.Context, text string) error {
	reply, err := unquote(text)
	if err != nil {
		return err
	}
	return useFake(ctx, answerEveryLine(reply))
}

// serverThatAcceptsConnectionsButNeverAnswers is the step `^a server that accepts connections but never answers$`.
func serverThatAcceptsConnectionsButNeverAnswers(ctx context.Context) error {
	return useFake(ctx, neverAnswer)
}

// articleFixedBufferServer is the step `^the article's fixed-buffer server$`.
func articleFixedBufferServer(ctx context.Context) error {
	return useFake(ctx, func(c net.Conn) { articlebugs.HandleConn(articlebugs.StaleBuffer, c) })
}

// addressWhereNoServerListens is the step `^an address where no server listens$`.
func addressWhereNoServerListens(ctx context.Context) error {
	// A port that was just free and is closed again: connecting to it
	// is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	clientsOf(ctx).elsewhere = l.Addr().String()
	return l.Close()
}

// echoClientSendsMessage is the step `^the echo client sends the message `+quoted+`$`.
func echoClientSendsMessage(ctx context.Context, text string) error {
	msg, err := unquote(text)
	if err != nil {
		return err
	}
	w := worldFrom(ctx)
	if w.clients.echo.c == nil {
		addr := w.clients.elsewhere
		if addr == "" {
			if err := w.startServer(); err != nil {
				return err
			}
			addr = w.server.addr
		}
		w.clients.echo.c = newTCPEchoer(w.target, w.clients.echo.dialer, addr, w.clients.echo.tlsFlags)
	}
	// What the client reports is for a Then step to judge.
	w.clients.echo.got, w.clients.echo.err = w.clients.echo.c.echo(ctx, msg)
	return nil
}

// echoClientFinishes is the step `^the echo client finishes$`.
func echoClientFinishes(ctx context.Context) error {
	e := &clientsOf(ctx).echo
	if e.err != nil || e.c == nil {
		return fmt.Errorf("the echo client cannot finish; it has not sent a message successfully (%w)", e.err)
	}
	e.err = e.c.finish()
	return nil
}

// echoClientGetsBack is the step `^the echo client gets `+quoted+` back$`.
func echoClientGetsBack(ctx context.Context, text string) error {
	want, err := unquote(text)
	if err != nil {
		return err
	}
	e := &clientsOf(ctx).echo
	t := godog.T(ctx)
	require.NoError(t, e.err)
	assert.Equal(t, show(want), show(e.got))
	return nil
}

// echoClientReportsThat is the step `^the echo client reports that (the echo differs|it timed out|the connection was refused|the TLS handshake failed|the connection was reset|the server closed the connection before the echo came)$`.
func echoClientReportsThat(ctx context.Context, what string) error {
	e := &clientsOf(ctx).echo
	if e.err == nil {
		return errors.New("the echo client reported no problem")
	}
	assert.ErrorIs(godog.T(ctx), e.err, tcpClientErrors.named(what), "the echo client reported: %v", e.err)
	return nil
}

// clientExitsSaying is the step `^(tcpclient|udpclient) exits with status (\d+), saying:$`:
// the client's failure as the binary prints it, <address> standing for
// the address it was sent to. In process mode that is what the binary
// printed; in-process, what its exit (cli.Exit) prints for the library's
// error.
func clientExitsSaying(ctx context.Context, name string, status int, doc *godog.DocString) error {
	w := worldFrom(ctx)
	failed, addr := w.clients.echo.err, w.clients.elsewhere
	if addr == "" {
		addr = w.server.addr
	}
	if name == "udpclient" {
		failed, addr = w.udp.err, w.udp.elsewhere
		if addr == "" {
			addr = w.udp.addr
		}
	}
	if failed == nil {
		return fmt.Errorf("%s reported no problem", name)
	}
	code, said := 0, ""
	var exit *clientExit
	if errors.As(failed, &exit) {
		code, said = exit.code, name+": "+exit.line
	} else {
		var out strings.Builder
		code = cli.Exit(name, failed, &out)
		said = strings.TrimSuffix(out.String(), "\n")
	}
	want := strings.ReplaceAll(strings.TrimSpace(doc.Content), "<address>", addr)
	if code != status || said != want {
		return fmt.Errorf("%s exited with status %d, saying %q; due: %d, %q", name, code, said, status, want)
	}
	return nil
}

// useFake starts a fake server and points the echo client at it.
func useFake(ctx context.Context, handle func(net.Conn)) error {
	f, err := startFake(handle)
	if err != nil {
		return err
	}
	w := worldFrom(ctx)
	w.clients.fakes = append(w.clients.fakes, f)
	w.clients.elsewhere = f.addr()
	return nil
}

// registerClientSteps registers the steps of this file: the project's TCP client.
func registerClientSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the echo client uses (line|fixed) framing and waits at most (\d+) seconds? for an echo$`, echoClientUsesFramingAndWaits)
	sc.Step(`^the echo client uses fixed framing with pieces of at most (\d+) bytes$`, echoClientUsesFixedFramingWithPieces)
	sc.Step(`^the echo client waits at most (\d+) milliseconds for an echo$`, echoClientWaitsMilliseconds)
	sc.Step(`^a broken server that answers every line with `+quoted+`$`, brokenServerThatAnswersEveryLineWithText)
	sc.Step(`^a server that accepts connections but never answers$`, serverThatAcceptsConnectionsButNeverAnswers)
	sc.Step(`^the article's fixed-buffer server$`, articleFixedBufferServer)
	sc.Step(`^an address where no server listens$`, addressWhereNoServerListens)
	sc.Step(`^the echo client sends the message `+quoted+`$`, echoClientSendsMessage)
	sc.Step(`^the echo client finishes$`, echoClientFinishes)
	sc.Step(`^(tcpclient|udpclient) exits with status (\d+), saying:$`, clientExitsSaying)
	sc.Step(`^the echo client gets `+quoted+` back$`, echoClientGetsBack)
	sc.Step(`^the echo client reports that (the echo differs|it timed out|the connection was refused|the TLS handshake failed|the connection was reset|the server closed the connection before the echo came)$`, echoClientReportsThat)
}
