package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"
)

// Shutdowner is what both echo servers share with net/http.Server for
// stopping.
type Shutdowner interface {
	Shutdown(ctx context.Context) error
	Close() error
}

// Stop is how a server stops once asked to (SIGINT, SIGTERM or SIGHUP).
type Stop struct {
	// Stopping is called at once: the admin endpoint turns not ready.
	Stopping func()
	// Drain is how long the server goes on serving first, so that a load
	// balancer that checks readiness sees it and stops sending new
	// clients before the listeners close.
	Drain time.Duration
	// Grace is how long the shutdown then gives what is in flight.
	Grace time.Duration
}

// Serve runs serve (the server's ListenAndServe, or ServeEach of the
// sockets systemd passed) until it fails or ctx ends, then stops srv as
// stop says. closed is the server's ErrServerClosed, which is how a
// stopped server returns and no error.
func Serve(ctx context.Context, serve func() error, srv Shutdowner, closed error, stop Stop, logger *slog.Logger) error {
	served := make(chan error, 1)
	go func() { served <- serve() }()
	ended := func(err error) error {
		if errors.Is(err, closed) {
			return nil
		}
		return err
	}
	select {
	case err := <-served:
		return ended(err)
	case <-ctx.Done():
	}
	if stop.Stopping != nil {
		stop.Stopping()
	}
	if stop.Drain > 0 {
		logger.Info("draining: not ready, still serving", "drain_delay", stop.Drain)
		drain := time.NewTimer(stop.Drain)
		select {
		case err := <-served:
			drain.Stop()
			return ended(err)
		case <-drain.C:
		}
	}
	logger.Info("shutting down", "grace", stop.Grace)
	sctx, cancel := context.WithTimeout(context.Background(), stop.Grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("what was in flight did not finish in time and was cut off", "grace", stop.Grace)
	}
	return ended(<-served)
}

// ServeEach returns a serve function for Serve that serves every one of
// socks with serveOne at once. It returns once all have returned: closed
// if they stopped as asked, or else the first other error, having closed
// srv so that the others stop too.
func ServeEach[S any](socks []S, serveOne func(S) error, srv Shutdowner, closed error) func() error {
	return func() error {
		errs := make(chan error, len(socks))
		for _, s := range socks {
			go func() { errs <- serveOne(s) }()
		}
		var first error
		for range socks { // one result from each: all have returned after
			if err := <-errs; !errors.Is(err, closed) && first == nil {
				first = err
				srv.Close()
			}
		}
		if first != nil {
			return first
		}
		return closed
	}
}

// NewLogger returns the servers' logger: text on stderr, at level Debug
// with -v (verbose) and Info otherwise.
func NewLogger(stderr io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// Serving returns how a server serves and on how many sockets: the
// sockets systemd passed (activated), each with serveOne, or else
// listenAndServe on its -listen address.
func Serving[S any](activated []S, serveOne func(S) error, listenAndServe func() error, srv Shutdowner, closed error) (serve func() error, sockets int) {
	if len(activated) == 0 {
		return listenAndServe, 1
	}
	return ServeEach(activated, serveOne, srv, closed), len(activated)
}
