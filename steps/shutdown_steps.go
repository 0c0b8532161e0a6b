package steps

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
)

// serverShutsDown is the step `^the server shuts down$`.
func serverShutsDown(ctx context.Context) error {
	return shutDown(ctx, patience)
}

// serverShutsDownWithGrace is the step `^the server shuts down, giving busy connections (\d+) seconds$`.
func serverShutsDownWithGrace(ctx context.Context, s int) error {
	return shutDown(ctx, time.Duration(s)*time.Second)
}

// shutdownFinishedWithoutNeedingThatTime is the step `^the shutdown finished without needing that time$`.
func shutdownFinishedWithoutNeedingThatTime(ctx context.Context) error {
	w := worldFrom(ctx)
	require.NoError(godog.T(ctx), w.server.shutdown.err, "shutdown with a grace period of %v", w.server.shutdown.grace)
	return nil
}

// serverSawConnectionsEndByShutdown is the step `^the server saw (\d+) connections end because the server shut down$`.
func serverSawConnectionsEndByShutdown(ctx context.Context, n int) error {
	_, err := serverOf(ctx).events.waitFor(ctx, fmt.Sprintf("%d connections to end because of the shutdown", n), func(events []event) bool {
		return countFor(events, tcpecho.ConnClosed, tcpecho.ErrServerClosed) == n
	})
	return err
}

// newClientCannotConnect is the step `^a new client cannot connect$`.
func newClientCannotConnect(ctx context.Context) error {
	w := worldFrom(ctx)
	c, err := net.DialTimeout("tcp", w.server.addr, patience)
	if err == nil {
		c.Close()
		return fmt.Errorf("a new client connected to %s after the shutdown", w.server.addr)
	}
	assert.ErrorIs(godog.T(ctx), err, syscall.ECONNREFUSED)
	return nil
}

// shutDown stops the running server with a grace period for busy
// connections, and keeps how that went, for a Then step to judge.
func shutDown(ctx context.Context, grace time.Duration) error {
	w := worldFrom(ctx)
	if err := w.startServer(); err != nil {
		return err
	}
	w.server.shutdown.grace = grace
	verdict, err := w.server.svc.stopGracefully(ctx, grace)
	w.server.shutdown.err = verdict
	return err
}

// registerShutdownSteps registers the steps of this file: graceful shutdown.
func registerShutdownSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the server shuts down$`, serverShutsDown)
	sc.Step(`^the server shuts down, giving busy connections (\d+) seconds$`, serverShutsDownWithGrace)
	sc.Step(`^the shutdown finished without needing that time$`, shutdownFinishedWithoutNeedingThatTime)
	sc.Step(`^the server saw (\d+) connections end because the server shut down$`, serverSawConnectionsEndByShutdown)
	sc.Step(`^a new client cannot connect$`, newClientCannotConnect)
}
