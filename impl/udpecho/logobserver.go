package udpecho

import (
	"context"
	"log/slog"

	"github.com/echospec/echo/internal/describe"
)

// LogObserver returns an Observer that logs every datagram answered, at
// level Debug, showing at most the first 64 bytes of its payload, when
// datagrams is set and the logger takes Debug; otherwise it wants nothing
// and costs nothing. Refused and failed datagrams are logged by the
// server itself, at most once a second.
func LogObserver(logger *slog.Logger, datagrams bool) Observer {
	return &logObserver{logger: logger, datagrams: datagrams && logger.Enabled(context.Background(), slog.LevelDebug)}
}

type logObserver struct {
	logger    *slog.Logger
	datagrams bool
}

// Wants implements Interests: answered datagrams, only if asked.
func (l *logObserver) Wants(k EventKind) bool { return k == Received && l.datagrams }

func (l *logObserver) Observe(e Event) {
	if e.Kind == Received && l.datagrams {
		l.logger.Debug("datagram", "source", e.Source.String(), "local", e.Local.String(), "bytes", len(e.Payload), "text", describe.Preview(e.Payload))
	}
}
