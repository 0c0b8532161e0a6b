package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
)

// echoServiceOver is the step `^an echo service over (TCP|UDP)$`.
func echoServiceOver(ctx context.Context, proto string) error {
	w := worldFrom(ctx)
	err := w.startServer()
	if proto == "UDP" {
		err = w.udp.startServer()
	}
	if errors.Is(err, errNoTCP) || errors.Is(err, errNoUDP) {
		return skipScenario(ctx, "%v", err)
	}
	return err
}

// clientSendsTextAndFinishes is the step `^`+client+` sends `+quoted+` and finishes sending$`.
func clientSendsTextAndFinishes(ctx context.Context, name, text string) error {
	b, err := unquote(text)
	if err != nil {
		return err
	}
	return streamFrom(ctx, clientName(name), b, 0)
}

// clientSendsEveryByteValue is the step `^`+client+` sends every byte value from 0 to 255, (\d+) times over, and finishes sending$`.
func clientSendsEveryByteValue(ctx context.Context, name string, times int) error {
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	return streamFrom(ctx, clientName(name), bytes.Repeat(every, times), 0)
}

// clientSendsRandomBytesAndFinishes is the step `^`+client+` sends (\d+) (KiB|MiB) of random bytes(?: in writes of 1 to (\d+) bytes)? and finishes sending$`.
func clientSendsRandomBytesAndFinishes(ctx context.Context, name string, n int, unit string, pieces string) error {
	maxWrite := 0
	if pieces != "" {
		fmt.Sscan(pieces, &maxWrite)
	}
	return streamFrom(ctx, clientName(name), randomBytes(n*units[unit]), maxWrite)
}

// clientReceivesWhatItSentThenEnd is the step `^`+client+` receives exactly what it sent and then the end of the stream$`.
func clientReceivesWhatItSentThenEnd(ctx context.Context, name string) error {
	p, err := worldFrom(ctx).peer(clientName(name))
	if err != nil {
		return err
	}
	return p.stream.check()
}

// clientsEachSendTheirOwnRandomBytes is the step `^(\d+) clients each send (\d+) (KiB|MiB) of their own random bytes at the same time and finish sending$`.
func clientsEachSendTheirOwnRandomBytes(ctx context.Context, n, size int, unit string) error {
	w := worldFrom(ctx)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		p, err := w.peer(fmt.Sprintf("client %d of %d", i+1, n))
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.startStream(randomBytes(size*units[unit]), 0)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// everyClientReceivesWhatItSentThenEnd is the step `^every client receives exactly what it sent and then the end of the stream$`.
func everyClientReceivesWhatItSentThenEnd(ctx context.Context) error {
	w := worldFrom(ctx)
	t := godog.T(ctx)
	for name, p := range w.clients.peers {
		if p.stream != nil {
			assert.NoError(t, p.stream.check(), name)
		}
	}
	return nil
}

var units = map[string]int{"KiB": 1 << 10, "MiB": 1 << 20}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return b
}

func streamFrom(ctx context.Context, name string, data []byte, maxWrite int) error {
	p, err := worldFrom(ctx).peer(name)
	if err != nil {
		return err
	}
	return p.startStream(data, maxWrite)
}

// registerStreamSteps registers the steps of this file: rFC 862's streams, against any echo service.
func registerStreamSteps(sc *godog.ScenarioContext) {
	sc.Step(`^an echo service over (TCP|UDP)$`, echoServiceOver)
	sc.Step(`^`+client+` sends `+quoted+` and finishes sending$`, clientSendsTextAndFinishes)
	sc.Step(`^`+client+` sends every byte value from 0 to 255, (\d+) times over, and finishes sending$`, clientSendsEveryByteValue)
	sc.Step(`^`+client+` sends (\d+) (KiB|MiB) of random bytes(?: in writes of 1 to (\d+) bytes)? and finishes sending$`, clientSendsRandomBytesAndFinishes)
	sc.Step(`^`+client+` receives exactly what it sent and then the end of the stream$`, clientReceivesWhatItSentThenEnd)
	sc.Step(`^(\d+) clients each send (\d+) (KiB|MiB) of their own random bytes at the same time and finish sending$`, clientsEachSendTheirOwnRandomBytes)
	sc.Step(`^every client receives exactly what it sent and then the end of the stream$`, everyClientReceivesWhatItSentThenEnd)
}
