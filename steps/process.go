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
	"sync"
	"syscall"
	"time"
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
	stderr *output
	events chan struct{} // closed when the event stream ends
	exited chan struct{} // closed when the process has exited
	err    error         // what Wait returned, once exited is closed
}

// startServerProcess runs bin/name with args plus "-listen 127.0.0.1:0
// -events /dev/fd/3", hands each event line to onEvent, and returns once
// the server says "listening on HOST:PORT".
func startServerProcess(bin, name string, args []string, onEvent func(line []byte)) (*serverProcess, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pipe for %s's events: %w", name, err)
	}
	defer w.Close()
	// The servers drop events rather than wait for a slow reader; give the
	// stream room enough that this reader, which only appends, never is
	// one. A drop would fail the scenario, and say so (see tcpEvents).
	args = append([]string{"-listen", "127.0.0.1:0", "-events", "/dev/fd/3", "-events-buffer", strconv.Itoa(eventsBuffer)}, args...)
	p := &serverProcess{
		name:   name,
		cmd:    exec.Command(filepath.Join(bin, name), args...),
		stderr: newOutput(),
		events: make(chan struct{}),
		exited: make(chan struct{}),
	}
	p.cmd.Stderr = p.stderr
	p.cmd.ExtraFiles = []*os.File{w} // fd 3 in the child
	if err := p.cmd.Start(); err != nil {
		r.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		defer close(p.events)
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
		for sc.Scan() {
			onEvent(sc.Bytes())
		}
	}()
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	ready := make(chan struct{})
	go func() {
		defer close(ready)
		p.addr, err = p.stderr.waitLine(ctx, "listening on ")
	}()
	select {
	case <-ready:
		if err != nil {
			p.kill()
			return nil, fmt.Errorf("%s did not say it was listening: %w", name, err)
		}
		return p, nil
	case <-p.exited:
		cancel()
		<-ready
		return nil, fmt.Errorf("%s exited (%v) before listening: %s", name, p.err, p.stderr.String())
	}
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

// output is a process's stderr that steps can wait on, line by line.
type output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newOutput() *output { return &output{changed: make(chan struct{})} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	close(o.changed)
	o.changed = make(chan struct{})
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitLine waits for a complete line starting with prefix and returns the
// rest of it.
func (o *output) waitLine(ctx context.Context, prefix string) (string, error) {
	return o.wait(ctx, func(line string) (string, bool) { return strings.CutPrefix(line, prefix) })
}

// waitContaining waits for a complete line that contains text, and
// returns it.
func (o *output) waitContaining(ctx context.Context, text string) (string, error) {
	return o.wait(ctx, func(line string) (string, bool) { return line, strings.Contains(line, text) })
}

func (o *output) wait(ctx context.Context, match func(line string) (string, bool)) (string, error) {
	for {
		o.mu.Lock()
		text, changed := o.buf.String(), o.changed
		o.mu.Unlock()
		for line := range strings.Lines(text) {
			line, complete := strings.CutSuffix(line, "\n")
			if !complete {
				break
			}
			if got, ok := match(line); ok {
				return got, nil
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("not in the output so far: %q", text)
		}
	}
}
