package tcpecho

import (
	"context"
	"log/slog"

	"github.com/echospec/echo/impl/internal/describe"
)

// LogObserver returns an Observer that logs each connection opening and
// closing, with its reason, at level Info. With messages set it also logs
// every message at level Debug, showing at most its first 64 bytes; without
// it, messages cost nothing but the check.
func LogObserver(logger *slog.Logger, messages bool) Observer {
	return ObserverFunc(func(e Event) {
		switch e.Kind {
		case ConnOpened:
			logger.Info("connection opened", "conn", e.Conn, "remote", e.Remote.String())
		case ConnClosed:
			logger.Info("connection closed", "conn", e.Conn, "remote", e.Remote.String(), "reason", e.Reason.Error())
		case MessageReceived:
			if messages && logger.Enabled(context.Background(), slog.LevelDebug) {
				logger.Debug("message", "conn", e.Conn, "remote", e.Remote.String(), "bytes", len(e.Message), "text", describe.Preview(e.Message))
			}
		}
	})
}
