package steps

import (
	"context"
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

func crowdSteps(sc *godog.ScenarioContext) {
	sc.When(`^(\d+) clients each send (\d+) lines at the same time$`, crowdSends)
	sc.Then(`^every client receives exactly its own lines, in order$`, func(ctx context.Context) error {
		w := worldFrom(ctx)
		t := godog.T(ctx)
		for i, m := range w.crowd {
			if assert.NoError(t, m.err, "client %d", i+1) {
				assert.Equal(t, string(m.want), string(m.got), "what client %d received", i+1)
			}
		}
		return nil
	})
	sc.Given(`^(\d+) clients are connected and idle$`, func(ctx context.Context, n int) error {
		w := worldFrom(ctx)
		for i := range n {
			if _, err := w.connected(ctx, fmt.Sprintf("idle client %d", i+1)); err != nil {
				return err
			}
		}
		return nil
	})
}

// crowdSends connects n clients, then lets them all go at once; each sends
// its lines one at a time, reading each echo before sending the next, so
// that the server interleaves every client's messages with the others'.
func crowdSends(ctx context.Context, n, lines int) error {
	w := worldFrom(ctx)
	if err := w.startServer(); err != nil {
		return err
	}
	conns := make([]net.Conn, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range conns {
		c, err := net.DialTimeout("tcp", w.addr, patience)
		if err != nil {
			return fmt.Errorf("client %d of %d cannot connect: %w", i+1, n, err)
		}
		conns[i] = c
	}

	w.crowd = make([]crowdMember, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &w.crowd[i]
			c.SetDeadline(time.Now().Add(patience))
			<-start
			for j := range lines {
				line := fmt.Appendf(nil, "client %02d line %02d\n", i+1, j+1)
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
	return nil
}
