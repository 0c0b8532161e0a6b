package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
)

// crowdMember is one of many clients that talk to the server at once.
type crowdMember struct {
	want, got []byte
	err       error
}

// clientsEachSendLinesAtOnce is the step `^(\d+) clients each send (\d+) lines at the same time(?:, all within (\d+) seconds)?$`.
func clientsEachSendLinesAtOnce(ctx context.Context, n, lines int, within string) error {
	limit := patience
	if within != "" {
		var s int
		fmt.Sscan(within, &s)
		limit = time.Duration(s) * time.Second
	}
	return crowdSends(ctx, n, lines, limit)
}

// everyIdleClientSendsLineReadsEcho is the step `^every idle client sends a line and reads its echo$`.
func everyIdleClientSendsLineReadsEcho(ctx context.Context) error {
	w := worldFrom(ctx)
	var conns []net.Conn
	for i := 1; ; i++ {
		p, ok := w.clients.peers[fmt.Sprintf("idle client %d", i)]
		if !ok {
			break
		}
		conns = append(conns, p.conn)
	}
	if len(conns) == 0 {
		return errors.New("no idle clients")
	}
	w.clients.crowd = talkAtOnce(conns, 1, patience)
	return nil
}

// everyClientReceivesExactlyOwnLinesInOrder is the step `^every client receives exactly its own lines, in order$`.
func everyClientReceivesExactlyOwnLinesInOrder(ctx context.Context) error {
	w := worldFrom(ctx)
	t := godog.T(ctx)
	for i, m := range w.clients.crowd {
		if assert.NoError(t, m.err, "client %d", i+1) {
			assert.Equal(t, string(m.want), string(m.got), "what client %d received", i+1)
		}
	}
	return nil
}

// clientsAreConnectedAndIdle is the step `^(\d+) clients are connected and idle$`.
func clientsAreConnectedAndIdle(ctx context.Context, n int) error {
	w := worldFrom(ctx)
	for i := range n {
		if _, err := w.connected(ctx, fmt.Sprintf("idle client %d", i+1)); err != nil {
			return err
		}
	}
	return nil
}

// crowdSends connects n clients, then lets them all go at once; each sends
// its lines one at a time, reading each echo before sending the next, so
// that the server interleaves every client's messages with the others'.
// All of it must be over within limit.
func crowdSends(ctx context.Context, n, lines int, limit time.Duration) error {
	w := worldFrom(ctx)
	if err := w.startServer(); err != nil {
		return err
	}
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.DialTimeout("tcp", w.server.addr, patience)
		if err != nil {
			return fmt.Errorf("client %d of %d cannot connect: %w", i+1, n, err)
		}
		conns = append(conns, c)
	}
	w.clients.crowd = talkAtOnce(conns, lines, limit)
	return nil
}

// talkAtOnce has every connection send its lines at the same moment, and
// returns what each sent and got back within limit.
func talkAtOnce(conns []net.Conn, lines int, limit time.Duration) []crowdMember {
	crowd := make([]crowdMember, len(conns))
	start := make(chan struct{})
	deadline := time.Now().Add(limit)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &crowd[i]
			c.SetDeadline(deadline)
			<-start
			for j := range lines {
				line := fmt.Appendf(nil, "client %04d line %03d\n", i+1, j+1)
				m.want = append(m.want, line...)
				if _, m.err = c.Write(line); m.err != nil {
					return
				}
				echo := make([]byte, len(line))
				if _, m.err = io.ReadFull(c, echo); m.err != nil {
					return
				}
				m.got = append(m.got, echo...)
			}
		}()
	}
	close(start)
	wg.Wait()
	return crowd
}

// registerCrowdSteps registers the steps of this file: many clients at once.
func registerCrowdSteps(sc *godog.ScenarioContext) {
	sc.Step(`^(\d+) clients each send (\d+) lines at the same time(?:, all within (\d+) seconds)?$`, clientsEachSendLinesAtOnce)
	sc.Step(`^every idle client sends a line and reads its echo$`, everyIdleClientSendsLineReadsEcho)
	sc.Step(`^every client receives exactly its own lines, in order$`, everyClientReceivesExactlyOwnLinesInOrder)
	sc.Step(`^(\d+) clients are connected and idle$`, clientsAreConnectedAndIdle)
}
