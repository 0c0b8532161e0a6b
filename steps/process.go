package steps

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/echospec/echo/internal/lines"
)

// eventsBuffer is the -events-buffer server processes get: 256 MiB.
const eventsBuffer = 256 << 20

// maxEventLine bounds one line of a server's event stream: a 64 KiB line
// or datagram, base64-encoded, with room to spare.
const maxEventLine = 4 << 20

// serverProcess is one of our server binaries, running for one scenario.
type serverProcess struct {
	name   string
	cmd    *exec.Cmd
	addr   string
	stderr *lines.Output
	events chan struct{} // closed when the event stream ends
	exited chan struct{} // closed when the process has exited
	err    error         // what Wait returned, once exited is closed
	// closeLog, if set, closes the scenario's end of a log pipe it stopped
	// reading.
	closeLog func()
}

// startServerProcess runs bin/name with args plus "-listen 127.0.0.1:0
// -events /dev/fd/3", hands each event line to onEvent, and returns once
// the server says "listening on HOST:PORT".
func startServerProcess(bin, name string, args []string, onEvent func(line []byte)) (*serverProcess, error) {
	return startProcess(bin, name, args, processOptions{onEvent: onEvent})
}

// logReader is how a scenario reads a server process's log (its stderr).
type logReader int

const (
	logRead   logReader = iota // every line, as it comes
	logLeaves                  // up to where it listens, then the reader closes the pipe
	logStalls                  // up to where it listens, then never again
)

// processOptions say how a server process is started and watched.
type processOptions struct {
	onEvent func(line []byte) // for each line of its event stream, on a pipe
	// events, if set, is the -events destination instead of the pipe,
	// such as a FIFO of the scenario's own; "none" starts the server
	// without -events, as most people run it.
	events string
	log    logReader
	// netns, if set, is the network namespace the process runs in.
	netns string
}

// command is the command line that runs path with args, in the network
// namespace if there is one.
func (opts processOptions) command(path string, args []string) *exec.Cmd {
	if opts.netns != "" {
		return exec.Command("ip", append([]string{"netns", "exec", opts.netns, path}, args...)...)
	}
	return exec.Command(path, args...)
}

// startProcess runs bin/name with args on a free port, its events and
// log handled as opts say, and returns once the server says "listening on
// HOST:PORT".
func startProcess(bin, name string, args []string, opts processOptions) (*serverProcess, error) {
	flags := []string{"-listen", "127.0.0.1:0", "-events", "/dev/fd/3", "-events-buffer", strconv.Itoa(eventsBuffer)}
	switch opts.events {
	case "":
	case "none":
		flags = []string{"-listen", "127.0.0.1:0"}
	default:
		flags = []string{"-listen", "127.0.0.1:0", "-events", opts.events}
	}
	p := &serverProcess{
		name:   name,
		cmd:    opts.command(filepath.Join(bin, name), append(flags, args...)),
		stderr: lines.NewOutput(),
		events: make(chan struct{}),
		exited: make(chan struct{}),
	}
	var events *os.File
	if opts.events == "" {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("pipe for %s's events: %w", name, err)
		}
		defer w.Close()
		events = r
		p.cmd.ExtraFiles = []*os.File{w} // fd 3 in the child
	}
	var logPipe *os.File
	if opts.log == logRead {
		p.cmd.Stderr = p.stderr
	} else {
		// The process writes straight into a pipe that the scenario
		// reads only as far as the listening line.
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("pipe for %s's log: %w", name, err)
		}
		defer w.Close()
		logPipe, p.cmd.Stderr = r, w
	}
	if err := p.cmd.Start(); err != nil {
		if events != nil {
			events.Close()
		}
		if logPipe != nil {
			logPipe.Close()
		}
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		defer close(p.events)
		if events == nil {
			return
		}
		defer events.Close()
		sc := bufio.NewScanner(events)
		sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
		for sc.Scan() {
			opts.onEvent(sc.Bytes())
		}
	}()
	if logPipe != nil {
		go readLogUntilListening(logPipe, p.stderr, opts.log)
		p.closeLog = func() { logPipe.Close() }
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	addr, err := lines.Listening(ctx, p.stderr, p.exited)
	switch {
	case errors.Is(err, lines.ErrExited):
		p.kill()
		return nil, fmt.Errorf("%s (%w): %w", name, p.err, err)
	case err != nil:
		p.kill()
		return nil, fmt.Errorf("%s did not say it was listening: %w", name, err)
	}
	p.addr = addr
	return p, nil
}

// readLogUntilListening copies log lines to out up to the one that says
// where the server listens; then, as mode says, it closes the pipe or
// leaves it unread, so that the server's writes to it fill it.
func readLogUntilListening(log *os.File, out *lines.Output, mode logReader) {
	r := bufio.NewReader(log)
	for {
		line, err := r.ReadString('\n')
		out.Write([]byte(line))
		if err != nil || strings.HasPrefix(line, "listening on ") {
			break
		}
	}
	if mode == logLeaves {
		log.Close()
	}
}

// adminURL is where the process's admin endpoint answers,
// http://HOST:PORT, as the line it wrote before it listened says.
func (p *serverProcess) adminURL() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	url, err := p.stderr.WaitLine(ctx, "admin endpoint at ")
	if err != nil {
		return "", fmt.Errorf("%s has no admin endpoint: %w", p.name, err)
	}
	return strings.TrimSuffix(url, "/"), nil
}

// signal sends sig to the process.
func (p *serverProcess) signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// wait waits up to limit for the process to exit, and for the end of its
// event stream, and returns its exit code.
func (p *serverProcess) wait(limit time.Duration) (int, error) {
	select {
	case <-p.exited:
	case <-time.After(limit):
		return -1, fmt.Errorf("%s did not exit within %v", p.name, limit)
	}
	<-p.events
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return 0, nil
	case errors.As(p.err, &exit):
		return exit.ExitCode(), nil
	}
	return -1, p.err
}

// kill ends the process at once, if it still runs, and waits for it.
func (p *serverProcess) kill() {
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
	<-p.events
	if p.closeLog != nil {
		p.closeLog()
	}
}

// endProcess sends p sig and waits for done, which closes when it has
// exited; one that has not within patience is killed.
func endProcess(p *os.Process, sig os.Signal, done <-chan struct{}) {
	p.Signal(sig)
	select {
	case <-done:
	case <-time.After(patience):
		p.Kill()
		<-done
	}
}

// clientRun is what one run of a client binary did.
type clientRun struct {
	code           int
	stdout, stderr string
}

// runClient runs bin/name with args and stdin, within limit.
func runClient(ctx context.Context, bin, name string, limit time.Duration, stdin string, args ...string) (clientRun, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &stdout, &stderr
	err := cmd.Run()
	run := clientRun{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return run, fmt.Errorf("%s %s did not finish within %v; stderr: %s", name, strings.Join(args, " "), limit, run.stderr)
	case err == nil:
	case errors.As(err, &exit):
		run.code = exit.ExitCode()
	default:
		return run, fmt.Errorf("run %s: %w", name, err)
	}
	return run, nil
}
