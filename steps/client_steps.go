package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
)

// echoClient is the project's own client as a scenario drives it.
type echoClient struct {
	dialer tcpecho.Dialer
	client *tcpecho.Client
	got    []byte
	err    error // what the last action returned
}

func (e *echoClient) close() {
	if e.client != nil {
		e.client.Abort()
	}
}

func clientSteps(sc *godog.ScenarioContext) {
	sc.Given(`^the echo client uses (line|fixed) framing and waits at most (\d+) seconds? for an echo$`, func(ctx context.Context, framing string, s int) error {
		w := worldFrom(ctx)
		if err := w.echo.dialer.Framing.UnmarshalText([]byte(framing)); err != nil {
			return err
		}
		w.echo.dialer.Timeout = time.Duration(s) * time.Second
		return nil
	})
	sc.Given(`^the echo client uses fixed framing with pieces of at most (\d+) bytes$`, func(ctx context.Context, n int) error {
		w := worldFrom(ctx)
		w.echo.dialer.Framing, w.echo.dialer.Size = tcpecho.FramingFixed, n
		return nil
	})
	sc.Given(`^the echo client waits at most (\d+) milliseconds for an echo$`, func(ctx context.Context, ms int) error {
		worldFrom(ctx).echo.dialer.Timeout = time.Duration(ms) * time.Millisecond
		return nil
	})

	sc.Given(`^a broken server that answers every line with `+quoted+`$`, func(ctx context.Context, text string) error {
		reply, err := unquote(text)
		if err != nil {
			return err
		}
		return useFake(ctx, answerEveryLine(reply))
	})
	sc.Given(`^a server that accepts connections but never answers$`, func(ctx context.Context) error {
		return useFake(ctx, neverAnswer)
	})
	sc.Given(`^the article's fixed-buffer server$`, func(ctx context.Context) error {
		return useFake(ctx, articleFixedBuffer)
	})
	sc.Given(`^an address where no server listens$`, func(ctx context.Context) error {
		// A port that was just free and is closed again: connecting to it
		// is refused.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		worldFrom(ctx).target = l.Addr().String()
		return l.Close()
	})

	sc.When(`^the echo client sends the message `+quoted+`$`, func(ctx context.Context, text string) error {
		msg, err := unquote(text)
		if err != nil {
			return err
		}
		w := worldFrom(ctx)
		if w.echo.client == nil {
			addr := w.target
			if addr == "" {
				if err := w.startServer(); err != nil {
					return err
				}
				addr = w.addr
			}
			w.echo.client, w.echo.err = w.echo.dialer.Dial(ctx, addr)
			if w.echo.err != nil {
				return nil // what the client reports is for a Then step to judge
			}
		}
		w.echo.got, w.echo.err = w.echo.client.Echo(msg)
		return nil
	})
	sc.When(`^the echo client finishes$`, func(ctx context.Context) error {
		w := worldFrom(ctx)
		if w.echo.err != nil || w.echo.client == nil {
			return fmt.Errorf("the echo client cannot finish; it has not sent a message successfully (%v)", w.echo.err)
		}
		w.echo.err = w.echo.client.Close()
		w.echo.client = nil
		return nil
	})

	sc.Then(`^the echo client gets `+quoted+` back$`, func(ctx context.Context, text string) error {
		want, err := unquote(text)
		if err != nil {
			return err
		}
		w := worldFrom(ctx)
		require.NoError(godog.T(ctx), w.echo.err)
		assert.Equal(godog.T(ctx), show(want), show(w.echo.got))
		return nil
	})
	sc.Then(`^the echo client reports that (the echo differs|it timed out|the connection was refused)$`, func(ctx context.Context, what string) error {
		want := map[string]error{
			"the echo differs":           tcpecho.ErrEchoDiffers,
			"it timed out":               os.ErrDeadlineExceeded,
			"the connection was refused": syscall.ECONNREFUSED,
		}[what]
		err := worldFrom(ctx).echo.err
		if err == nil {
			return errors.New("the echo client reported no problem")
		}
		assert.ErrorIs(godog.T(ctx), err, want, "the echo client reported: %v", err)
		return nil
	})
}

// useFake starts a fake server and points the echo client at it.
func useFake(ctx context.Context, handle func(net.Conn)) error {
	f, err := startFake(handle)
	if err != nil {
		return err
	}
	w := worldFrom(ctx)
	w.fakes = append(w.fakes, f)
	w.target = f.addr()
	return nil
}
