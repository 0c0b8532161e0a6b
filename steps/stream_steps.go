package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

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

// clientSendsTextFinishesSending is the step `^`+client+` sends `+quoted+` and finishes sending$`.
func clientSendsTextFinishesSending(ctx context.Context, name, text string) error {
	b, err := unquote(text)
	if err != nil {
		return err
	}
	return streamFrom(ctx, clientName(name), b, 0)
}

// clientSendsEveryByteValueFrom0255 is the step `^`+client+` sends every byte value from 0 to 255, (\d+) times over, and finishes sending$`.
func clientSendsEveryByteValueFrom0255(ctx context.Context, name string, times int) error {
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	return streamFrom(ctx, clientName(name), bytes.Repeat(every, times), 0)
}

// clientSendsNRandomBytesInWrites1 is the step `^`+client+` sends (\d+) (KiB|MiB) of random bytes(?: in writes of 1 to (\d+) bytes)? and finishes sending$`.
func clientSendsNRandomBytesInWrites1(ctx context.Context, name string, n int, unit string, pieces string) error {
	maxWrite := 0
	if pieces != "" {
		fmt.Sscan(pieces, &maxWrite)
	}
	return streamFrom(ctx, clientName(name), randomBytes(n*units[unit]), maxWrite)
}

// clientReceivesExactlyWhatSentThenEndStream is the step `^`+client+` receives exactly what it sent and then the end of the stream$`.
func clientReceivesExactlyWhatSentThenEndStream(ctx context.Context, name string) error {
	p, err := worldFrom(ctx).peer(clientName(name))
	if err != nil {
		return err
	}
	return p.stream.check()
}

// nClientsEachSendNTheirOwnRandom is the step `^(\d+) clients each send (\d+) (KiB|MiB) of their own random bytes at the same time and finish sending$`.
func nClientsEachSendNTheirOwnRandom(ctx context.Context, n, size int, unit string) error {
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

// everyClientReceivesExactlyWhatSentThenEnd is the step `^every client receives exactly what it sent and then the end of the stream$`.
func everyClientReceivesExactlyWhatSentThenEnd(ctx context.Context) error {
	w := worldFrom(ctx)
	t := godog.T(ctx)
	for name, p := range w.peers {
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

// stream is a client's whole exchange with an echo service: everything it
// sent, and everything that came back until the server closed.
type stream struct {
	sent     []byte
	received []byte
	readErr  error
	done     chan struct{} // closed when the reading has ended
}

// startStream reads everything that comes back, from the start, while it
// writes data (in writes of at most maxWrite bytes, if set) and then
// finishes sending. Reading all along keeps a large echo from filling the
// buffers and stalling both ends.
func (p *peer) startStream(data []byte, maxWrite int) error {
	s := &stream{sent: data, done: make(chan struct{})}
	p.stream = s
	p.conn.SetDeadline(time.Now().Add(4 * patience))
	go func() {
		defer close(s.done)
		// Read one byte more than was sent, so that too much shows.
		s.received, s.readErr = io.ReadAll(io.LimitReader(p.conn, int64(len(data))+1))
	}()
	for rest := data; len(rest) > 0; {
		n := len(rest)
		if maxWrite > 0 {
			n = min(n, 1+rand.IntN(maxWrite))
		}
		if _, err := p.conn.Write(rest[:n]); err != nil {
			return fmt.Errorf("send: %w after %d of %d bytes", err, len(data)-len(rest), len(data))
		}
		rest = rest[n:]
	}
	p.sent += len(data)
	return p.conn.CloseWrite()
}

// check waits for the end of the stream and compares it with what was sent.
func (s *stream) check() error {
	if s == nil {
		return errNothing
	}
	<-s.done // bounded by the connection's deadline
	if s.readErr != nil && !errors.Is(s.readErr, net.ErrClosed) {
		return fmt.Errorf("after %d of %d bytes came back: %w", len(s.received), len(s.sent), s.readErr)
	}
	if bytes.Equal(s.received, s.sent) {
		return nil
	}
	return errors.New(difference(s.sent, s.received))
}
