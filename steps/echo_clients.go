package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/impl/udpecho"
)

// tcpEchoer is the project's TCP echo client as a scenario drives it: the
// package's Client in library mode, the tcpclient binary in process mode.
// Either way a failure is the error the library returns, so steps judge
// both alike; newTCPEchoer is the one place that picks.
type tcpEchoer interface {
	// echo sends msg and returns its echo.
	echo(ctx context.Context, msg []byte) ([]byte, error)
	// finish ends the conversation as the client does: half-closes, and
	// checks that nothing more comes back.
	finish() error
	// roundTrip is how long the last echo took, as the client reports it.
	roundTrip() time.Duration
	close()
}

// newTCPEchoer returns the run's echo client, with d's settings, for the
// server at addr.
// tlsFlags are tcpclient's flags for what d.TLSConfig says in files.
func newTCPEchoer(t Target, d tcpecho.Dialer, addr string, tlsFlags []string) tcpEchoer {
	if t.Mode == Process {
		return &tcpProcessClient{bin: t.Bin, d: d, addr: addr, tlsFlags: tlsFlags}
	}
	return &tcpLibraryClient{dialOnce: dialing(d.Dial, addr, (*tcpecho.Client).Abort)}
}

// dialOnce is a library client's connection, made at its first use and
// dropped (closed at once, whatever it holds) by close.
type dialOnce[C any] struct {
	dial func(context.Context) (*C, error)
	drop func(*C) error
	c    *C
}

// dialing is a dialOnce that dials addr with dial.
func dialing[C any](dial func(context.Context, string) (*C, error), addr string, drop func(*C) error) dialOnce[C] {
	return dialOnce[C]{dial: func(ctx context.Context) (*C, error) { return dial(ctx, addr) }, drop: drop}
}

func (o *dialOnce[C]) close() {
	if o.c != nil {
		o.drop(o.c)
	}
}

func (o *dialOnce[C]) conn(ctx context.Context) (*C, error) {
	if o.c == nil {
		c, err := o.dial(ctx)
		if err != nil {
			return nil, err
		}
		o.c = c
	}
	return o.c, nil
}

// tcpLibraryClient is tcpecho.Client, connected at the first echo.
type tcpLibraryClient struct {
	dialOnce[tcpecho.Client]
	rtt time.Duration
}

func (l *tcpLibraryClient) echo(ctx context.Context, msg []byte) ([]byte, error) {
	c, err := l.conn(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	got, err := c.Echo(msg)
	l.rtt = time.Since(start)
	return got, err
}

func (l *tcpLibraryClient) roundTrip() time.Duration { return l.rtt }

func (l *tcpLibraryClient) finish() error {
	if l.c == nil {
		return errors.New("the echo client cannot finish: it is not connected")
	}
	err := l.c.Close()
	l.c = nil
	return err
}

// tcpProcessClient runs tcpclient once per message: it connects, sends the
// message, prints the echo and finishes.
type tcpProcessClient struct {
	bin      string
	d        tcpecho.Dialer
	addr     string
	tlsFlags []string
	// finished is how the last run finished, once its echo had come:
	// tcpclient prints an echo before it finishes, and fails after it if
	// the server sends more.
	finished error
	rtt      time.Duration // what tcpclient -rtt said of the last echo
}

// tcpClientErrors are the library's errors that tcpclient's one line of
// failure names, how it names them, and how a feature says the client
// reported them.
var tcpClientErrors = knownErrors{
	{tcpecho.ErrEchoDiffers, "echo differs from what was sent", "the echo differs"},
	{os.ErrDeadlineExceeded, "timed out", "it timed out"},
	{syscall.ECONNREFUSED, "connection refused", "the connection was refused"},
	{tcpecho.ErrHandshake, "tls handshake with", "the TLS handshake failed"},
	{syscall.ECONNRESET, "connection reset", "the connection was reset"},
	{io.ErrUnexpectedEOF, "closed the connection after", "the server closed the connection before the echo came"},
}

func (p *tcpProcessClient) echo(ctx context.Context, msg []byte) ([]byte, error) {
	timeout := cmp.Or(p.d.Timeout, tcpecho.DefaultTimeout)
	args := []string{"-addr", p.addr, "-framing", p.d.Framing.String(), "-timeout", timeout.String()}
	if p.d.Size != 0 {
		args = append(args, "-size", strconv.Itoa(p.d.Size))
	}
	if p.d.ProxyHeader != 0 {
		args = append(args, "-proxy-header", fmt.Sprintf("v%d", p.d.ProxyHeader))
	}
	args = append(args, p.tlsFlags...)
	args = append(args, "-rtt")
	run, err := runClient(ctx, p.bin, "tcpclient", 2*timeout+patience, "", append(args, string(msg))...)
	if err != nil {
		return nil, err
	}
	err = run.failure("tcpclient", tcpClientErrors)
	if err != nil && run.stdout == "" {
		return nil, err // the echo itself failed
	}
	p.finished = err
	p.rtt = 0
	for _, line := range strings.Split(run.stderr, "\n") {
		if d, ok := strings.CutPrefix(line, "round trip "); ok {
			p.rtt, _ = time.ParseDuration(d)
		}
	}
	// tcpclient prints each echo on a line of its own: a line echo with
	// its newline, any other with one added.
	got := []byte(strings.TrimSuffix(run.stdout, "\n"))
	if p.d.Framing == tcpecho.FramingLine {
		got = append(got, '\n')
	}
	return got, nil
}

// finish: the process finished when it had sent its message; this is how.
func (p *tcpProcessClient) finish() error { return p.finished }
func (p *tcpProcessClient) close()        {}

func (p *tcpProcessClient) roundTrip() time.Duration { return p.rtt }

// udpEchoer is the project's UDP echo client as a scenario drives it: the
// package's Client in library mode, the udpclient binary in process mode,
// its failures the library's errors either way.
type udpEchoer interface {
	// echo sends each message in turn and returns their echoes.
	echo(ctx context.Context, msgs ...[]byte) ([][]byte, error)
	close()
}

// newUDPEchoer returns the run's UDP echo client, with d's settings, for
// the server at addr.
func newUDPEchoer(t Target, d udpecho.Dialer, addr string) udpEchoer {
	if t.Mode == Process {
		return &udpProcessClient{bin: t.Bin, d: d, addr: addr}
	}
	return &udpLibraryClient{dialing(d.Dial, addr, (*udpecho.Client).Close)}
}

// udpLibraryClient is udpecho.Client, opened at the first echo.
type udpLibraryClient struct{ dialOnce[udpecho.Client] }

func (l *udpLibraryClient) echo(ctx context.Context, msgs ...[]byte) ([][]byte, error) {
	c, err := l.conn(ctx)
	if err != nil {
		return nil, err
	}
	var got [][]byte
	for _, msg := range msgs {
		echo, err := c.Echo(msg)
		if err != nil {
			return got, err
		}
		got = append(got, echo)
	}
	return got, nil
}

// udpProcessClient runs udpclient once for all the messages.
type udpProcessClient struct {
	bin  string
	d    udpecho.Dialer
	addr string
}

// udpClientErrors are the library's errors that udpclient's one line of
// failure names, and how.
var udpClientErrors = knownErrors{
	{udpecho.ErrNoEcho, "no echo from", ""},
	{os.ErrDeadlineExceeded, "i/o timeout", "nothing came in time"},
	{syscall.ECONNREFUSED, "connection refused", "the host refused"},
}

func (p *udpProcessClient) echo(ctx context.Context, msgs ...[]byte) ([][]byte, error) {
	timeout := cmp.Or(p.d.Timeout, udpecho.DefaultTimeout)
	args := []string{"-addr", p.addr, "-timeout", timeout.String(), "-retries", strconv.Itoa(p.d.Retries)}
	for _, m := range msgs {
		args = append(args, string(m))
	}
	limit := time.Duration(len(msgs)*(p.d.Retries+1))*timeout + patience
	run, err := runClient(ctx, p.bin, "udpclient", limit, "", args...)
	if err != nil {
		return nil, err
	}
	var got [][]byte
	for line := range strings.Lines(run.stdout) {
		got = append(got, []byte(strings.TrimSuffix(line, "\n")))
	}
	return got, run.failure("udpclient", udpClientErrors)
}

func (p *udpProcessClient) close() {}

// knownError is one of the library's errors, the words a client binary
// writes for it, and the words a feature says it with.
type knownError struct {
	is      error
	says    string
	feature string
}

// knownErrors are the errors one client reports.
type knownErrors []knownError

// named is the error a feature names.
func (ks knownErrors) named(feature string) error {
	for _, k := range ks {
		if k.feature == feature {
			return k.is
		}
	}
	return fmt.Errorf("no error the echo client reports is called %q", feature)
}

// clientExit is a client process's failure: its exit status and its one
// line on stderr, wrapping the library's errors that line names, so that
// errors.Is judges a process as it judges the library.
type clientExit struct {
	code int
	line string
	is   []error
}

func (e *clientExit) Error() string   { return fmt.Sprintf("exit status %d: %s", e.code, e.line) }
func (e *clientExit) Unwrap() []error { return e.is }

// failure is nil for a run that exited 0, and otherwise the clientExit it
// makes. Only exit status 1 names a failure of the exchange: any other
// status wraps nothing.
func (r clientRun) failure(name string, known knownErrors) error {
	if r.code == 0 {
		return nil
	}
	// The first line that is not -rtt's says what failed.
	var line string
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if !strings.HasPrefix(l, "round trip ") {
			line = l
			break
		}
	}
	line = strings.TrimPrefix(line, name+": ")
	e := &clientExit{code: r.code, line: line}
	if r.code == 1 {
		for _, k := range known {
			if strings.Contains(line, k.says) {
				e.is = append(e.is, k.is)
			}
		}
	}
	return e
}
