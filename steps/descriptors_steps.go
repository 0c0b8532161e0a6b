package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/echospec/echo/impl/tcpecho"
	"golang.org/x/sys/unix"
)

// tcpserverRunsWithDescriptors is the step `^tcpserver -framing (stream|line|fixed) is running with at most (\d+) descriptors$`:
// its limit lowered once it runs, as `ulimit -n` or systemd's
// LimitNOFILE would set it.
func tcpserverRunsWithDescriptors(ctx context.Context, framing string, n int) error {
	if err := tcpserverFramingIsRunning(ctx, framing); err != nil {
		return err
	}
	p := worldFrom(ctx).process()
	if p == nil {
		return errors.New("no tcpserver process runs")
	}
	limit := unix.Rlimit{Cur: uint64(n), Max: uint64(n)}
	if err := unix.Prlimit(p.cmd.Process.Pid, unix.RLIMIT_NOFILE, &limit, nil); err != nil {
		return fmt.Errorf("lower tcpserver's descriptors to %d: %w", n, err)
	}
	return nil
}

// silentClients is the step `^(\d+) clients connect and send nothing$`.
func silentClients(ctx context.Context, n int) error {
	w := worldFrom(ctx)
	conns, err := w.dialMany(n, "silent client")
	w.clients.waiting = append(w.clients.waiting, conns...)
	return err
}

// moreClientsThanDescriptors is the step `^(\d+) more clients connect, more than the server has descriptors for$`:
// those past its limit wait in its listener's backlog.
func moreClientsThanDescriptors(ctx context.Context, n int) error {
	_, err := worldFrom(ctx).dialMany(n, "one more client")
	return err
}

// dialMany connects n clients to the server, closed when the scenario
// ends.
func (w *world) dialMany(n int, what string) ([]net.Conn, error) {
	var conns []net.Conn
	for i := range n {
		c, err := net.DialTimeout("tcp", w.server.addr, patience)
		if err != nil {
			return conns, fmt.Errorf("%s, %d of %d: %w", what, i+1, n, err)
		}
		w.scratch.closers = append(w.scratch.closers, func() { c.Close() })
		conns = append(conns, c)
	}
	return conns, nil
}

// silentClientsFinishLines is the step `^each silent client sends half a line and, (\d+) milliseconds later, the rest, and receives its whole line back$`.
func silentClientsFinishLines(ctx context.Context, ms int) error {
	w := worldFrom(ctx)
	var wg sync.WaitGroup
	errs := make([]error, len(w.clients.waiting))
	for i, c := range w.clients.waiting {
		wg.Go(func() {
			half, rest := fmt.Sprintf("client %d's half line", i), " and the rest\n"
			c.SetDeadline(time.Now().Add(patience + time.Duration(ms)*time.Millisecond))
			if _, err := io.WriteString(c, half); err != nil {
				errs[i] = fmt.Errorf("silent client %d: send half a line: %w", i+1, err)
				return
			}
			pace(ctx, time.Duration(ms)*time.Millisecond)
			if _, err := io.WriteString(c, rest); err != nil {
				errs[i] = fmt.Errorf("silent client %d: send the rest: %w", i+1, err)
				return
			}
			got := make([]byte, len(half)+len(rest))
			if n, err := io.ReadFull(c, got); err != nil {
				errs[i] = fmt.Errorf("silent client %d: got %d of %d bytes back, %q: %w", i+1, n, len(got), got[:n], err)
				return
			}
			if string(got) != half+rest {
				errs[i] = fmt.Errorf("silent client %d got %q back, not %q", i+1, got, half+rest)
			}
		})
	}
	wg.Wait()
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			first = cmp.Or(first, err)
		}
	}
	if failed > 0 {
		log := ""
		if p := w.process(); p != nil {
			log = p.stderr.String()
			log = log[max(0, len(log)-2000):]
		}
		reasons := map[string]int{}
		for _, e := range w.server.events.snapshot() {
			if e.kind == tcpecho.ConnClosed && e.reason != nil {
				reasons[e.reason.Error()]++
			}
		}
		return fmt.Errorf("%d of %d silent clients did not get their line back; the first: %w; the server closed connections because %v; its log ends: %s", failed, len(errs), first, reasons, log)
	}
	godog.T(ctx).Logf("%d silent clients each got their line back", len(errs))
	return nil
}

// registerDescriptorsSteps registers the steps of this file: a server that runs out of descriptors.
func registerDescriptorsSteps(sc *godog.ScenarioContext) {
	sc.Step(`^tcpserver -framing (stream|line|fixed) is running with at most (\d+) descriptors$`, tcpserverRunsWithDescriptors)
	sc.Step(`^(\d+) clients connect and send nothing$`, silentClients)
	sc.Step(`^(\d+) more clients connect, more than the server has descriptors for$`, moreClientsThanDescriptors)
	sc.Step(`^each silent client sends half a line and, (\d+) milliseconds later, the rest, and receives its whole line back$`, silentClientsFinishLines)
}
