package steps

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// clientSendsTextKeepsSideOpen is the step `^`+client+` sends `+quoted+` and keeps its side open$`.
func clientSendsTextKeepsSideOpen(ctx context.Context, name, text string) error {
	b, err := unquote(text)
	if err != nil {
		return err
	}
	if bytes.IndexByte(b, '\n') >= 0 {
		return fmt.Errorf("%q has a line end; this step is for data without one", text)
	}
	return sendAndKeepOpen(ctx, clientName(name), b)
}

// clientSendsNRandomBytesWithNoLine is the step `^`+client+` sends (\d+) (KiB|MiB) of random bytes with no line end and keeps its side open$`.
func clientSendsNRandomBytesWithNoLine(ctx context.Context, name string, n int, unit string) error {
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
