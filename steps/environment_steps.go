package steps

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"

	"github.com/echospec/echo/impl/tcpecho"
)

// serverRunsWithVAndItsLogReaderLeaves is the step `^(tcpserver|udpserver) is running with -v, and the reader of its log leaves after the line that says where it listens$`.
func serverRunsWithVAndItsLogReaderLeaves(ctx context.Context, name string) error {
	return startWithLog(ctx, name, logLeaves, "-v")
}

// serverRunsWithVAndNobodyReadsItsLog is the step `^(tcpserver|udpserver) is running with -v, and nobody reads its log after the line that says where it listens$`.
func serverRunsWithVAndNobodyReadsItsLog(ctx context.Context, name string) error {
	return startWithLog(ctx, name, logStalls, "-v")
}

// tcpserverWritesEventsToFIFONobodyOpens is the step `^tcpserver is running with its events going to a FIFO that nobody opens$`.
func tcpserverWritesEventsToFIFONobodyOpens(ctx context.Context) error {
	_, err := startWithFIFO(ctx)
	return err
}

// tcpserverWritesEventsToFIFONobodyReads is the step `^tcpserver is running with "([^"]*)" and its events going to a FIFO whose reader never reads$`.
func tcpserverWritesEventsToFIFONobodyReads(ctx context.Context, args string) error {
	fifo, err := startWithFIFO(ctx, strings.Fields(args)...)
	if err != nil {
		return err
	}
	// Opened for reading, never read: the pipe fills and stays full.
	f, err := os.OpenFile(fifo, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	w := worldFrom(ctx)
	w.scratch.closers = append(w.scratch.closers, func() { f.Close() })
	return nil
}

// tcpserverWritesEventsToFIFO is the step `^tcpserver is running with its events going to a FIFO$`.
func tcpserverWritesEventsToFIFO(ctx context.Context) error {
	_, err := startWithFIFO(ctx)
	return err
}

// fifoReaderSeesClientConnectAndLeaves is the step `^a reader of the FIFO sees `+client+` connect, and leaves$`.
func fifoReaderSeesClientConnectAndLeaves(ctx context.Context, name string) error {
	_, err := readFIFOUntil(ctx, name, tcpecho.ConnOpened)
	return err
}

// newFIFOReaderSeesConnectionOpenAndClose is the step `^a new reader of the FIFO sees `+client+`'s connection open and close$`.
func newFIFOReaderSeesConnectionOpenAndClose(ctx context.Context, name string) error {
	if _, err := readFIFOUntil(ctx, name, tcpecho.ConnClosed); err != nil {
		return fmt.Errorf("the new reader: %w", err)
	}
	return nil
}

// clientsInTurnEachHaveALineEchoed is the step `^(\d+) clients in turn each send a line and receive it back$`.
func clientsInTurnEachHaveALineEchoed(ctx context.Context, n int) error {
	w := worldFrom(ctx)
	if err := w.startServer(); err != nil {
		return err
	}
	for i := range n {
		c, err := net.DialTimeout("tcp", w.server.addr, patience)
		if err != nil {
			return fmt.Errorf("client %d of %d cannot connect: %w", i+1, n, err)
		}
		p := &peer{conn: c.(*net.TCPConn)}
		err = p.exchange(fmt.Appendf(nil, "client %d\n", i+1))
		c.Close()
		if err != nil {
			return fmt.Errorf("client %d of %d: %w", i+1, n, err)
		}
	}
	return nil
}

// serverProcessIsStillRunning is the step `^(tcpserver|udpserver) is still running$`.
func serverProcessIsStillRunning(ctx context.Context, name string) error {
	p := worldFrom(ctx).processNamed(name)
	if p == nil {
		return fmt.Errorf("%s was not started", name)
	}
	select {
	case <-p.exited:
		return fmt.Errorf("%s has exited: %w", name, p.err)
	default:
		return nil
	}
}

// whenSignalledExitsWithStatus is the step `^when (tcpserver|udpserver) gets (SIGTERM|SIGINT|SIGHUP) it exits with status (\d+)$`.
func whenSignalledExitsWithStatus(ctx context.Context, name, sig string, code int) error {
	if err := signalAndWait(ctx, name, signals[sig]); err != nil {
		return err
	}
	e := processesOf(ctx).exited
	assert.Equal(godog.T(ctx), code, e.code, "%s's exit status; it wrote:\n%s", e.name, e.stderr)
	return nil
}

// exitedWithinSecondsOfSignal is the step `^it exited within (\d+) seconds? of the signal$`.
func exitedWithinSecondsOfSignal(ctx context.Context, s int) error {
	e := processesOf(ctx).exited
	if e == nil {
		return errors.New("no binary has exited in this scenario")
	}
	assert.Less(godog.T(ctx), e.after, time.Duration(s)*time.Second, "%s took %v to exit after its signal", e.name, e.after)
	return nil
}

// lastLogLineCountsEventsDropped is the step `^its last log line counts the events it dropped$`.
func lastLogLineCountsEventsDropped(ctx context.Context) error {
	e := processesOf(ctx).exited
	if e == nil {
		return errors.New("no binary has exited in this scenario")
	}
	m := droppedEvents.FindStringSubmatch(e.stderr)
	if m == nil {
		return fmt.Errorf("%s's last lines say nothing of dropped events:\n%s", e.name, tail(e.stderr, 3))
	}
	if n, _ := strconv.Atoi(m[1]); n == 0 {
		return fmt.Errorf("%s says it dropped no events, though nobody read them:\n%s", e.name, tail(e.stderr, 3))
	}
	return nil
}

// serverEventStreamSaysThatLogFailed is the step `^the server's event stream says that its log failed$`.
func serverEventStreamSaysThatLogFailed(ctx context.Context) error {
	w := worldFrom(ctx)
	_, err := w.server.events.waitForNotice(ctx, "stderr failed")
	return err
}

// droppedEvents finds the count in the line a server writes as it stops.
var droppedEvents = regexp.MustCompile(`msg=stopped .*events_dropped=(\d+)`)

func tail(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// processNamed returns the scenario's tcpserver or udpserver process.
func (w *world) processNamed(name string) *serverProcess {
	if name == "udpserver" {
		return w.udp.process()
	}
	return w.process()
}

// startWithLog starts a server process whose log is read as mode says.
func startWithLog(ctx context.Context, name string, mode logReader, args ...string) error {
	w := worldFrom(ctx)
	if err := needBinaries(ctx); err != nil {
		return err
	}
	args = append(args, "-shutdown-timeout", processGrace.String())
	if name == "udpserver" {
		p, err := startProcess(w.target.Bin, name, args, processOptions{onEvent: udpEvents(w.udp.events), log: mode})
		if err != nil {
			return err
		}
		w.udp.use(&processService{p: p})
		return nil
	}
	p, err := startProcess(w.target.Bin, name, args, processOptions{onEvent: tcpEvents(w.server.events), log: mode})
	if err != nil {
		return err
	}
	w.use(&processService{p: p})
	return nil
}

// startWithFIFO starts tcpserver with -events a FIFO of the scenario's own,
// which nobody has opened yet, and returns the FIFO's path.
func startWithFIFO(ctx context.Context, args ...string) (string, error) {
	w := worldFrom(ctx)
	if err := needBinaries(ctx); err != nil {
		return "", err
	}
	dir, err := w.tempDir()
	if err != nil {
		return "", err
	}
	fifo := filepath.Join(dir, "events")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return "", fmt.Errorf("make a FIFO: %w", err)
	}
	args = append(args, "-shutdown-timeout", processGrace.String())
	p, err := startProcess(w.target.Bin, "tcpserver", args, processOptions{events: fifo})
	if err != nil {
		return "", err
	}
	w.use(&processService{p: p})
	w.procs.fifo = fifo
	return fifo, nil
}

// readFIFOUntil opens the scenario's FIFO, reads events until one of kind
// for the named client, and closes it. A reader that comes after another
// may first read the rest of a line its predecessor left: lines that are
// not events are passed over.
func readFIFOUntil(ctx context.Context, name string, kind tcpecho.EventKind) (tcpecho.Event, error) {
	w := worldFrom(ctx)
	p, err := w.peer(name)
	if err != nil {
		return tcpecho.Event{}, err
	}
	remote := p.conn.LocalAddr().String()
	type result struct {
		e   tcpecho.Event
		err error
	}
	found := make(chan result, 1)
	f, err := openWithin(w.procs.fifo, patience)
	if err != nil {
		return tcpecho.Event{}, err
	}
	defer f.Close()
	go func() {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
		for sc.Scan() {
			e, err := tcpecho.ReadEvent(sc.Bytes())
			if err == nil && e.Kind == kind && e.Remote.String() == remote {
				found <- result{e: e}
				return
			}
		}
		found <- result{err: fmt.Errorf("the stream ended before %s's %v: %w", name, kind, sc.Err())}
	}()
	select {
	case r := <-found:
		return r.e, r.err
	case <-time.After(patience):
		f.SetReadDeadline(time.Now()) // ends the scan, if the FIFO allows
		return tcpecho.Event{}, fmt.Errorf("no %v event for %s within %v", kind, name, patience)
	}
}

// openWithin opens a FIFO for reading, which waits for its writer, within
// limit: the server opens its end when it looks for a reader.
func openWithin(path string, limit time.Duration) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_RDONLY, 0)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-time.After(limit):
		// Unblock the open with a writer of our own, and give up.
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		if o := <-done; o.f != nil {
			o.f.Close()
		}
		return nil, fmt.Errorf("the server did not open %s for writing within %v", path, limit)
	}
}

// signalAndWait sends sig to the named server and waits for it to exit.
func signalAndWait(ctx context.Context, name string, sig syscall.Signal) error {
	w := worldFrom(ctx)
	p := w.processNamed(name)
	if p == nil {
		return fmt.Errorf("%s is not running", name)
	}
	sent := time.Now()
	if err := p.signal(sig); err != nil {
		return err
	}
	code, err := p.wait(processGrace + patience)
	w.procs.exited = &exited{name: name, code: code, stderr: p.stderr.String(), after: time.Since(sent)}
	return err
}

// registerEnvironmentSteps registers the steps of this file: the server's environment: logs and event streams nobody reads.
func registerEnvironmentSteps(sc *godog.ScenarioContext) {
	sc.Step(`^(tcpserver|udpserver) is running with -v, and the reader of its log leaves after the line that says where it listens$`, serverRunsWithVAndItsLogReaderLeaves)
	sc.Step(`^(tcpserver|udpserver) is running with -v, and nobody reads its log after the line that says where it listens$`, serverRunsWithVAndNobodyReadsItsLog)
	sc.Step(`^tcpserver is running with its events going to a FIFO that nobody opens$`, tcpserverWritesEventsToFIFONobodyOpens)
	sc.Step(`^tcpserver is running with "([^"]*)" and its events going to a FIFO whose reader never reads$`, tcpserverWritesEventsToFIFONobodyReads)
	sc.Step(`^tcpserver is running with its events going to a FIFO$`, tcpserverWritesEventsToFIFO)
	sc.Step(`^a reader of the FIFO sees `+client+` connect, and leaves$`, fifoReaderSeesClientConnectAndLeaves)
	sc.Step(`^a new reader of the FIFO sees `+client+`'s connection open and close$`, newFIFOReaderSeesConnectionOpenAndClose)
	sc.Step(`^(\d+) clients in turn each send a line and receive it back$`, clientsInTurnEachHaveALineEchoed)
	sc.Step(`^(tcpserver|udpserver) is still running$`, serverProcessIsStillRunning)
	sc.Step(`^when (tcpserver|udpserver) gets (SIGTERM|SIGINT|SIGHUP) it exits with status (\d+)$`, whenSignalledExitsWithStatus)
	sc.Step(`^it exited within (\d+) seconds? of the signal$`, exitedWithinSecondsOfSignal)
	sc.Step(`^its last log line counts the events it dropped$`, lastLogLineCountsEventsDropped)
	sc.Step(`^the server's event stream says that its log failed$`, serverEventStreamSaysThatLogFailed)
}
