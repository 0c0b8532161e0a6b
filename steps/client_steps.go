package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/steps/articlebugs"
)

// echoClient is the project's own client as a scenario drives it.
type echoClient struct {
	dialer tcpecho.Dialer
	client *tcpecho.Client
	got    []byte
	err    error // what the last action returned
	// run is what the tcpclient process did, in Process mode, where one
	// run sends the message and finishes.
	run *clientRun
}

func (e *echoClient) close() {
	if e.client != nil {
		e.client.Abort()
	}
}

func clientSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the echo client uses (line|fixed) framing and waits at most (\d+) seconds? for an echo$`, func(ctx context.Context, framing string, s int) error {
		w := worldFrom(ctx)
		if err := w.echo.dialer.Framing.UnmarshalText([]byte(framing)); err != nil {
			return err
		}
		w.echo.dialer.Timeout = time.Duration(s) * time.Second
		return nil
	})
	sc.Step(`^the echo client uses fixed framing with pieces of at most (\d+) bytes$`, func(ctx context.Context, n int) error {
		w := worldFrom(ctx)
		w.echo.dialer.Framing, w.echo.dialer.Size = tcpecho.FramingFixed, n
		return nil
	})
	sc.Step(`^the echo client waits at most (\d+) milliseconds for an echo$`, func(ctx context.Context, ms int) error {
		worldFrom(ctx).echo.dialer.Timeout = time.Duration(ms) * time.Millisecond
		return nil
	})

	sc.Step(`^a broken server that answers every line with `+quoted+`$`, func(ctx context.Context, text string) error {
		reply, err := unquote(text)
		if err != nil {
			return err
		}
		return useFake(ctx, answerEveryLine(reply))
	})
	sc.Step(`^a server that accepts connections but never answers$`, func(ctx context.Context) error {
		return useFake(ctx, neverAnswer)
	})
	sc.Step(`^the article's fixed-buffer server$`, func(ctx context.Context) error {
		return useFake(ctx, func(c net.Conn) { articlebugs.HandleConn(articlebugs.StaleBuffer, c) })
	})
	sc.Step(`^an address where no server listens$`, func(ctx context.Context) error {
		// A port that was just free and is closed again: connecting to it
		// is refused.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		worldFrom(ctx).elsewhere = l.Addr().String()
		return l.Close()
	})

	sc.Step(`^the echo client sends the message `+quoted+`$`, func(ctx context.Context, text string) error {
		msg, err := unquote(text)
		if err != nil {
			return err
		}
		w := worldFrom(ctx)
		addr := w.elsewhere
		if addr == "" {
			if err := w.startServer(); err != nil {
				return err
			}
			addr = w.addr
		}
		if w.target.Mode == Process {
			return w.echo.runProcess(ctx, w.target.Bin, addr, msg)
		}
		if w.echo.client == nil {
			w.echo.client, w.echo.err = w.echo.dialer.Dial(ctx, addr)
			if w.echo.err != nil {
				return nil // what the client reports is for a Then step to judge
			}
		}
		w.echo.got, w.echo.err = w.echo.client.Echo(msg)
		return nil
	})
	sc.Step(`^the echo client finishes$`, func(ctx context.Context) error {
		w := worldFrom(ctx)
		if w.echo.run != nil {
			return nil // the process finished when it had sent its message
		}
		if w.echo.err != nil || w.echo.client == nil {
			return fmt.Errorf("the echo client cannot finish; it has not sent a message successfully (%v)", w.echo.err)
		}
		w.echo.err = w.echo.client.Close()
		w.echo.client = nil
		return nil
	})

	sc.Step(`^the echo client gets `+quoted+` back$`, func(ctx context.Context, text string) error {
		want, err := unquote(text)
		if err != nil {
			return err
		}
		e := &worldFrom(ctx).echo
		t := godog.T(ctx)
		if e.run != nil {
			require.Equal(t, 0, e.run.code, "tcpclient's exit status; stderr: %s", e.run.stderr)
			assert.Equal(t, show(bytes.TrimSuffix(want, []byte{'\n'})), show([]byte(strings.TrimSuffix(e.run.stdout, "\n"))), "what tcpclient printed")
			return nil
		}
		require.NoError(t, e.err)
		assert.Equal(t, show(want), show(e.got))
		return nil
	})
	sc.Step(`^the echo client reports that (the echo differs|it timed out|the connection was refused)$`, func(ctx context.Context, what string) error {
		report := clientReports[what]
		e := &worldFrom(ctx).echo
		t := godog.T(ctx)
		if e.run != nil {
			assert.Equal(t, 1, e.run.code, "tcpclient's exit status")
			assert.Contains(t, e.run.stderr, report.says, "what tcpclient wrote on stderr")
			return nil
		}
		if e.err == nil {
			return errors.New("the echo client reported no problem")
		}
		assert.ErrorIs(t, e.err, report.is, "the echo client reported: %v", e.err)
		return nil
	})
}

// clientReports maps how a feature says the client reported a problem to
// the error the library returns and the words the binary writes.
var clientReports = map[string]struct {
	is   error
	says string
}{
	"the echo differs":           {tcpecho.ErrEchoDiffers, "echo differs from what was sent"},
	"it timed out":               {os.ErrDeadlineExceeded, "timed out"},
	"the connection was refused": {syscall.ECONNREFUSED, "connection refused"},
}

// runProcess runs tcpclient once, with the dialer's settings as flags, to
// send msg and finish.
func (e *echoClient) runProcess(ctx context.Context, bin, addr string, msg []byte) error {
	timeout := e.dialer.Timeout
	if timeout == 0 {
		timeout = tcpecho.DefaultTimeout
	}
	args := []string{"-addr", addr, "-framing", e.dialer.Framing.String(), "-timeout", timeout.String()}
	if e.dialer.Size != 0 {
		args = append(args, "-size", strconv.Itoa(e.dialer.Size))
	}
	run, err := runClient(ctx, bin, "tcpclient", 2*timeout+patience, "", append(args, string(msg))...)
	if err != nil {
		return err
	}
	e.run = &run
	return nil
}

// useFake starts a fake server and points the echo client at it.
func useFake(ctx context.Context, handle func(net.Conn)) error {
	f, err := startFake(handle)
	if err != nil {
		return err
	}
	w := worldFrom(ctx)
	w.fakes = append(w.fakes, f)
	w.elsewhere = f.addr()
	return nil
}
