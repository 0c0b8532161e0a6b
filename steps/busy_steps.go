package steps

import (
	"github.com/cucumber/godog"

	"context"
	"errors"
)

// serverIsTooBusyToAccept is the step `^the server is too busy to accept connections$`.
func serverIsTooBusyToAccept(ctx context.Context) error {
	w := worldFrom(ctx)
	if err := w.startServer(); err != nil {
		return err
	}
	err := w.server.svc.holdAccepts()
	if errors.Is(err, errNotOurs) {
		return skipScenario(ctx, "this scenario holds back our own server, not another's")
	}
	return err
}

// serverAcceptsAgain is the step `^the server accepts connections again$`.
func serverAcceptsAgain(ctx context.Context) error {
	w := worldFrom(ctx)
	if !w.started() {
		return errors.New("the server was not held back")
	}
	return w.server.svc.resumeAccepts()
}

// registerBusySteps registers the steps of this file: a server too busy to accept.
func registerBusySteps(sc *godog.ScenarioContext) {
	sc.Step(`^the server is too busy to accept connections$`, serverIsTooBusyToAccept)
	sc.Step(`^the server accepts connections again$`, serverAcceptsAgain)
}
