package steps

import (
	"github.com/cucumber/godog"

	"bytes"
	"context"
	"fmt"
	"time"
)

// clientSendsTextKeepingSideOpen is the step `^`+client+` sends `+quoted+` and keeps its side open$`.
func clientSendsTextKeepingSideOpen(ctx context.Context, name, text string) error {
	b, err := unquote(text)
	if err != nil {
		return err
	}
	if bytes.IndexByte(b, '\n') >= 0 {
		return fmt.Errorf("%q has a line end; this step is for data without one", text)
	}
	return sendAndKeepOpen(ctx, clientName(name), b)
}

// clientSendsRandomBytesKeepingSideOpen is the step `^`+client+` sends (\d+) (KiB|MiB) of random bytes with no line end and keeps its side open$`.
func clientSendsRandomBytesKeepingSideOpen(ctx context.Context, name string, n int, unit string) error {
	b := randomBytes(n * units[unit])
	for i := range b {
		if b[i] == '\n' {
			b[i] = '\r'
		}
	}
	return sendAndKeepOpen(ctx, clientName(name), b)
}

// clientReceivesSameBytesBackWithin is the step `^`+client+` receives the same bytes back within (\d+) seconds?$`.
func clientReceivesSameBytesBackWithin(ctx context.Context, name string, s int) error {
	p, err := worldFrom(ctx).peer(clientName(name))
	if err != nil {
		return err
	}
	if p.prompt == nil {
		return errNothing
	}
	return p.prompt.within(time.Duration(s) * time.Second)
}

// registerPromptSteps registers the steps of this file: echoes that must not wait for a line end.
func registerPromptSteps(sc *godog.ScenarioContext) {
	sc.Step(`^`+client+` sends `+quoted+` and keeps its side open$`, clientSendsTextKeepingSideOpen)
	sc.Step(`^`+client+` sends (\d+) (KiB|MiB) of random bytes with no line end and keeps its side open$`, clientSendsRandomBytesKeepingSideOpen)
	sc.Step(`^`+client+` receives the same bytes back within (\d+) seconds?$`, clientReceivesSameBytesBackWithin)
}
