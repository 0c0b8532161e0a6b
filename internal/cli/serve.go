package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"
)

// Server is the shape both echo servers share with net/http.Server.
type Server interface {
	ListenAndServe() error
	Shutdown(ctx context.Context) error
}

// Serve runs srv until it fails or ctx ends (SIGINT or SIGTERM), then shuts
// it down, giving what is in flight up to grace. closed is the server's
// ErrServerClosed, which is how a stopped server returns and no error.
func Serve(ctx context.Context, srv Server, closed error, grace time.Duration, logger *slog.Logger) error {
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	select {
	case err := <-served:
		if errors.Is(err, closed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("what was in flight did not finish in time and was cut off", "grace", grace)
	}
	if err := <-served; !errors.Is(err, closed) {
		return err
	}
	return nil
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
