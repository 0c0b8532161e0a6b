package tcpecho

import (
	"context"
	"log/slog"

	"github.com/echospec/echo/internal/describe"
)

// LogObserver returns an Observer that logs each connection opening and
// closing, with its reason, at level Info. With messages set it also logs
// every message at level Debug, showing at most its first 64 bytes; without
// it, messages cost nothing but the check.
func LogObserver(logger *slog.Logger, messages bool) Observer {
	return &logObserver{logger: logger, messages: messages && logger.Enabled(context.Background(), slog.LevelDebug)}
}

type logObserver struct {
	logger   *slog.Logger
	messages bool
}

// Wants implements Interests: connections always, messages only if asked.
func (l *logObserver) Wants(k EventKind) bool {
	return k == ConnOpened || k == ConnClosed || (k == MessageReceived && l.messages)
}

func (l *logObserver) Observe(e Event) {
	switch e.Kind {
	case ConnOpened:
		attrs := []any{"conn", e.Conn, "remote", e.Remote.String()}
		if e.Local != nil {
			attrs = append(attrs, "local", e.Local.String())
		}
		if e.Proxy != nil {
			attrs = append(attrs, "proxy", e.Proxy.String())
		}
		if t := e.TLS; t != nil {
			tls := []any{"version", t.Version, "cipher_suite", t.CipherSuite}
			for _, kv := range [][2]string{{"server_name", t.ServerName}, {"alpn", t.ALPN}, {"client_subject", t.Client}} {
				if kv[1] != "" {
					tls = append(tls, kv[0], kv[1])
				}
			}
			attrs = append(attrs, slog.Group("tls", tls...))
		}
		l.logger.Info("connection opened", attrs...)
	case ConnClosed:
		l.logger.Info("connection closed", "conn", e.Conn, "remote", e.Remote.String(), "reason", e.Reason.Error())
	case MessageReceived:
		if l.messages {
			l.logger.Debug("message", "conn", e.Conn, "remote", e.Remote.String(), "bytes", len(e.Message), "text", describe.Preview(e.Message))
		}
	}
}
