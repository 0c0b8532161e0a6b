package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
)

func shutdownSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the server shuts down$`, func(ctx context.Context) error {
		return shutDown(ctx, patience)
	})
	sc.Step(`^the server shuts down, giving busy connections (\d+) seconds$`, func(ctx context.Context, s int) error {
		return shutDown(ctx, time.Duration(s)*time.Second)
	})
	sc.Step(`^the shutdown finished without needing that time$`, func(ctx context.Context) error {
		w := worldFrom(ctx)
		require.NoError(godog.T(ctx), w.shutdown.err, "shutdown with a grace period of %v", w.shutdown.grace)
		return nil
	})
	sc.Step(`^the server saw (\d+) connections end because the server shut down$`, func(ctx context.Context, n int) error {
		_, err := worldFrom(ctx).events.waitFor(ctx, fmt.Sprintf("%d connections to end because of the shutdown", n), func(events []event) bool {
			return countFor(events, tcpecho.ConnClosed, tcpecho.ErrServerClosed) == n
		})
		return err
	})
	sc.Step(`^a new client cannot connect$`, func(ctx context.Context) error {
		w := worldFrom(ctx)
		c, err := net.DialTimeout("tcp", w.addr, patience)
		if err == nil {
			c.Close()
			return fmt.Errorf("a new client connected to %s after the shutdown", w.addr)
		}
		assert.ErrorIs(godog.T(ctx), err, syscall.ECONNREFUSED)
		return nil
	})
}

// shutDown stops the running server with a grace period for busy
// connections, and keeps what that returned: Shutdown's error in-process;
// for a process, SIGTERM and its exit.
func shutDown(ctx context.Context, grace time.Duration) error {
	w := worldFrom(ctx)
	if err := w.startServer(); err != nil {
		return err
	}
	w.shutdown.grace = grace
	if w.process != nil {
		if grace != processGrace {
			return fmt.Errorf("server processes start with -shutdown-timeout %v, so a scenario cannot give them %v", processGrace, grace)
		}
		if err := w.process.signal(syscall.SIGTERM); err != nil {
			return err
		}
		code, err := w.process.wait(grace + patience)
		switch {
		case err != nil:
			return err
		case code != 0:
			w.shutdown.err = fmt.Errorf("tcpserver exited %d after SIGTERM: %s", code, w.process.stderr)
		case strings.Contains(w.process.stderr.String(), "cut off"):
			w.shutdown.err = fmt.Errorf("tcpserver needed its whole grace period: %s", w.process.stderr)
		}
		return nil
	}
	if w.server == nil {
		return errors.New("only our own servers can be shut down by a scenario")
	}
	sctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	w.shutdown.err = w.server.Shutdown(sctx)
	return nil
}
