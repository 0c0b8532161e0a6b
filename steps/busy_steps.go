package steps

import (
	"context"
	"errors"
)

// serverIsTooBusyAcceptConnections is the step `^the server is too busy to accept connections$`.
func serverIsTooBusyAcceptConnections(ctx context.Context) error {
	w := worldFrom(ctx)
	if err := w.startServer(); err != nil {
		return err
	}
	err := w.svc.holdAccepts()
	if errors.Is(err, errNotOurs) {
		return skipScenario(ctx, "this scenario holds back our own server, not another's")
	}
	return err
}

// serverAcceptsConnectionsAgain is the step `^the server accepts connections again$`.
func serverAcceptsConnectionsAgain(ctx context.Context) error {
	w := worldFrom(ctx)
	if !w.started() {
		return errors.New("the server was not held back")
	}
	return w.svc.resumeAccepts()
}
