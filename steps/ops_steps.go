package steps

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/echospec/echo/internal/metricstest"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"

	"github.com/echospec/echo/internal/lines"
)

// tcpserverRunsWithAdmin is the step `^tcpserver -framing (stream|line|fixed) is running with an admin endpoint(?: and -drain-delay (\d+)s)?$`.
func tcpserverRunsWithAdmin(ctx context.Context, framing, drain string) error {
	w := worldFrom(ctx)
	w.server.ops.admin = true
	if drain != "" {
		seconds, err := strconv.Atoi(drain)
		if err != nil {
			return err
		}
		w.server.ops.drainDelay = time.Duration(seconds) * time.Second
	}
	return tcpserverFramingIsRunning(ctx, framing)
}

// udpserverRunsWithAdmin is the step `^udpserver is running with an admin endpoint$`.
func udpserverRunsWithAdmin(ctx context.Context) error {
	worldFrom(ctx).udp.ops.admin = true
	return serverProcessIsRunning(ctx, "udpserver")
}

// serverDrainsWhenStopped is the step `^a (stream|line) echo server that drains for (\d+) seconds? when stopped$`.
func serverDrainsWhenStopped(ctx context.Context, framing string, seconds int) error {
	if err := needBinaries(ctx); err != nil {
		return err
	}
	w := worldFrom(ctx)
	return w.configure(func() {
		w.server.framing.UnmarshalText([]byte(framing))
		w.server.ops = opsConfig{admin: true, drainDelay: time.Duration(seconds) * time.Second}
	})
}

// haproxyChecksReadiness is the step `^HAProxy checks each server's /readyz on its admin endpoint$`.
func haproxyChecksReadiness(ctx context.Context) error {
	w := worldFrom(ctx)
	return w.configure(func() { w.haproxy.balancer.readyz = true })
}

// adminURL is the admin endpoint of the scenario's server process, TCP's
// unless only a UDP one runs.
func (w *world) adminURL() (string, error) {
	p := w.process()
	if p == nil {
		p = w.udp.process()
	}
	if p == nil {
		return "", errors.New("no server process runs in this scenario")
	}
	return p.adminURL()
}

// clientSendsNLines is the step `^a client sends (\d+) lines and receives each back$`.
func clientSendsNLines(ctx context.Context, n int) error {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("line %d\n", i)
	}
	return exchangeLines(serverOf(ctx).addr, lines...)
}

// clientSendsNDatagrams is the step `^a client sends (\d+) datagrams and receives each back$`.
func clientSendsNDatagrams(ctx context.Context, n int) error {
	c, err := net.Dial("udp", worldFrom(ctx).udp.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 64)
	for i := range n {
		msg := fmt.Sprintf("datagram %d", i)
		if _, err := c.Write([]byte(msg)); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(patience))
		got, err := c.Read(buf)
		if err != nil {
			return fmt.Errorf("the echo of datagram %d: %w", i, err)
		}
		if string(buf[:got]) != msg {
			return fmt.Errorf("sent %q, got %q back", msg, buf[:got])
		}
	}
	return nil
}

// metricsPassPromtool is the step `^the admin endpoint's metrics pass promtool's check$`.
func metricsPassPromtool(ctx context.Context) error {
	promtool, err := lookTool("promtool")
	if errors.Is(err, errMissingTool) {
		return skipScenario(ctx, "%v", err)
	}
	if err != nil {
		return err
	}
	url, err := worldFrom(ctx).adminURL()
	if err != nil {
		return err
	}
	body, err := metricstest.Get(ctx, url+"/metrics")
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("promtool check metrics: %w: %s", err, out)
	}
	return nil
}

// metricsInclude is the step `^its /metrics include:$`: each line of the
// DocString, a series and its value as the exposition format writes them,
// is in the admin endpoint's metrics. Counts come after the echoes they
// count, so the step waits for them a while.
func metricsInclude(ctx context.Context, doc *godog.DocString) error {
	want := metricstest.Samples{}
	for _, line := range strings.Split(strings.TrimSpace(doc.Content), "\n") {
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return fmt.Errorf("not a series and its value: %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return fmt.Errorf("not a series and its value: %q: %w", line, err)
		}
		want[line[:i]] = v
	}
	url, err := worldFrom(ctx).adminURL()
	if err != nil {
		return err
	}
	// One scrape a look, every series checked in it.
	var got metricstest.Samples
	err = waitUntil(ctx, patience, func() (bool, error) {
		got, err = metricstest.Scrape(ctx, url)
		if err != nil {
			return false, err
		}
		for series, v := range want {
			if got[series] != v {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		var off []string
		for series, v := range want {
			if got[series] != v {
				off = append(off, fmt.Sprintf("%s is %v, not %v", series, got[series], v))
			}
		}
		return fmt.Errorf("%s: %w", strings.Join(off, "; "), err)
	}
	return nil
}

// serverIsSentSignal is the step `^(tcpserver|udpserver) is sent (SIGTERM|SIGINT|SIGHUP)$`:
// the signal only; its exit is for a later step.
func serverIsSentSignal(ctx context.Context, name, sig string) error {
	w := worldFrom(ctx)
	p := w.processNamed(name)
	if p == nil {
		return fmt.Errorf("%s is not running", name)
	}
	w.procs.signalled = time.Now()
	return p.signal(signals[sig])
}

// readyzAnswersWithin is the step `^its /readyz answers (\d+) within (\d+) milliseconds$`.
func readyzAnswersWithin(ctx context.Context, status, ms int) error {
	w := worldFrom(ctx)
	url, err := w.adminURL()
	if err != nil {
		return err
	}
	for {
		got, _, err := metricstest.Fetch(ctx, url+"/readyz")
		if err != nil {
			return err
		}
		if got == status {
			break
		}
		if time.Since(w.procs.signalled) > patience {
			return fmt.Errorf("/readyz still answers %d %s after the signal", got, patience)
		}
	}
	after := time.Since(w.procs.signalled)
	assert.LessOrEqual(godog.T(ctx), after, time.Duration(ms)*time.Millisecond, "/readyz answered %d only %v after the signal", status, after)
	return nil
}

// newClientsServedUntil is the step `^new clients are still served until (\d+) seconds? after the signal$`:
// one every 100 ms, until 200 ms before then.
func newClientsServedUntil(ctx context.Context, seconds int) error {
	w := worldFrom(ctx)
	end := w.procs.signalled.Add(time.Duration(seconds)*time.Second - 200*time.Millisecond)
	served := 0
	for time.Now().Before(end) {
		if err := clientSendsNLines(ctx, 1); err != nil {
			return fmt.Errorf("a new client %v after the signal: %w", time.Since(w.procs.signalled).Round(time.Millisecond), err)
		}
		served++
		pace(ctx, 100*time.Millisecond)
	}
	if served == 0 {
		return errors.New("no client was tried: the step began too late")
	}
	return nil
}

// exitsNoSoonerThan is the step `^it exits with status (\d+), no sooner than (\d+) seconds? after the signal$`.
func exitsNoSoonerThan(ctx context.Context, code, seconds int) error {
	w := worldFrom(ctx)
	p := w.process()
	if p == nil {
		return errors.New("tcpserver is not running")
	}
	got, err := p.wait(time.Duration(seconds)*time.Second + processGrace + patience)
	if err != nil {
		return err
	}
	after := time.Since(w.procs.signalled)
	w.procs.exited = &exited{name: p.name, code: got, stderr: p.stderr.String(), after: after}
	assert.Equal(godog.T(ctx), code, got, "%s's exit status; it wrote:\n%s", p.name, p.stderr)
	assert.GreaterOrEqual(godog.T(ctx), after, time.Duration(seconds)*time.Second, "it exited %v after the signal", after)
	return nil
}

// steadyClients is a stream of clients, one after another, each sending
// a line through an address and checking its echo: to show that no
// client is refused while a server behind a balancer stops.
type steadyClients struct {
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	served int
	failed []error
}

// clientsKeepConnecting is the step `^clients keep connecting through HAProxy, one line each$`.
func clientsKeepConnecting(ctx context.Context) error {
	w := worldFrom(ctx)
	s := &steadyClients{stop: make(chan struct{}), done: make(chan struct{})}
	w.clients.steady = s
	w.scratch.closers = append(w.scratch.closers, s.end)
	go s.run(w.server.addr)
	return nil
}

// maxSteadyRun bounds how long the stream of clients may run.
const maxSteadyRun = 30 * time.Second

func (s *steadyClients) run(addr string) {
	defer close(s.done)
	limit := time.After(maxSteadyRun)
	for i := 0; ; i++ {
		err := oneLine(addr, fmt.Sprintf("client %d\n", i))
		s.mu.Lock()
		if err != nil {
			s.failed = append(s.failed, fmt.Errorf("client %d: %w", i, err))
		} else {
			s.served++
		}
		s.mu.Unlock()
		select {
		case <-s.stop:
			return
		case <-limit:
			return
		case <-time.After(10 * time.Millisecond): // a steady rate, not a wait for anything
		}
	}
}

// end stops the clients and waits for the last one.
func (s *steadyClients) end() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

// oneLine connects to addr, sends line, and checks that it comes back.
func oneLine(addr, line string) error { return exchangeLines(addr, line) }

// exchangeLines connects to addr and sends each line in turn on the one
// connection, checking that it comes back before sending the next.
func exchangeLines(addr string, lines ...string) error {
	c, err := net.DialTimeout("tcp", addr, patience)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(patience))
	r := bufio.NewReader(c)
	for _, line := range lines {
		if _, err := c.Write([]byte(line)); err != nil {
			return err
		}
		got, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("no echo (%w) of %q", err, line)
		}
		if got != line {
			return fmt.Errorf("sent %q, got %q", line, got)
		}
	}
	return nil
}

// everyClientServed is the step `^every client through HAProxy was served, none refused$`.
func everyClientServed(ctx context.Context) error {
	s := clientsOf(ctx).steady
	if s == nil {
		return errors.New("no clients kept connecting in this scenario")
	}
	s.end()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failed) > 0 {
		var account string
		if lb := haproxyOf(ctx).lb; lb != nil {
			account = "; HAProxy saw the servers so:\n" + lb.account()
		}
		return fmt.Errorf("%d of %d clients failed, the first: %w%s", len(s.failed), len(s.failed)+s.served, s.failed[0], account)
	}
	if s.served < 10 {
		return fmt.Errorf("only %d clients ran: too few to show anything", s.served)
	}
	return nil
}

// startedBySocketActivation is the step `^(tcpserver|udpserver) is started by systemd-socket-activate on a free port$`.
func startedBySocketActivation(ctx context.Context, name string) error {
	if err := needBinaries(ctx); err != nil {
		return err
	}
	activate, err := lookTool("systemd-socket-activate")
	if errors.Is(err, errMissingTool) {
		return skipScenario(ctx, "%v", err)
	}
	if err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	w := worldFrom(ctx)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{"-l", addr}
	if name == "udpserver" {
		args = append(args, "--datagram")
	}
	cmd := exec.Command(activate, append(args, filepath.Join(w.target.Bin, name))...)
	out := lines.NewOutput()
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start systemd-socket-activate: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	w.procs.activated = &activatedServer{name: name, addr: addr, cmd: cmd, out: out, exited: exited}
	w.scratch.closers = append(w.scratch.closers, w.procs.activated.stop)
	// It listens before it starts the server, which it does at the first
	// client.
	if _, err := out.WaitContaining(ctx, "Listening on "+addr); err != nil {
		return err
	}
	return nil
}

// activatedServer is one of our servers started by systemd-socket-activate.
type activatedServer struct {
	name, addr string
	cmd        *exec.Cmd
	out        *lines.Output
	exited     chan struct{} // closed once it has exited
}

// stop ends the server as systemd would, and waits for it.
func (a *activatedServer) stop() { endProcess(a.cmd.Process, syscall.SIGTERM, a.exited) }

// servedThroughPassedSocket is the step `^a client is served through that socket: `+quoted+` comes back$`.
func servedThroughPassedSocket(ctx context.Context, text string) error {
	a := processesOf(ctx).activated
	if a == nil {
		return errors.New("no server was started by systemd-socket-activate")
	}
	msg, err := unquote(text)
	if err != nil {
		return err
	}
	network := "tcp"
	if a.name == "udpserver" {
		network = "udp"
	}
	c, err := net.DialTimeout(network, a.addr, patience)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(patience))
	if _, err := c.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	var n int
	if network == "tcp" {
		n, err = io.ReadFull(c, got)
	} else {
		n, err = c.Read(got)
	}
	if err != nil {
		return fmt.Errorf("no echo through the passed socket: %w; it wrote:\n%s", err, a.out)
	}
	assert.Equal(godog.T(ctx), string(msg), string(got[:n]))
	// The server says where it listens: the socket it was passed, not a
	// socket of its own.
	if _, err := a.out.WaitLine(ctx, "listening on "+a.addr); err != nil {
		return err
	}
	return nil
}

// pace waits d, or less if ctx ends: a rate for a stream of clients.
func pace(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// waitUntil calls check until it says done, returns an error, or limit
// passes.
func waitUntil(ctx context.Context, limit time.Duration, check func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		done, err := check()
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("not within %v", limit)
			}
			return err
		}
		pace(ctx, 10*time.Millisecond)
	}
}

// registerOpsSteps registers the steps of this file: running it for real: metrics, readiness, drain, socket activation.
func registerOpsSteps(sc *godog.ScenarioContext) {
	sc.Step(`^tcpserver -framing (stream|line|fixed) is running with an admin endpoint(?: and -drain-delay (\d+)s)?$`, tcpserverRunsWithAdmin)
	sc.Step(`^udpserver is running with an admin endpoint$`, udpserverRunsWithAdmin)
	sc.Step(`^a (stream|line) echo server that drains for (\d+) seconds? when stopped$`, serverDrainsWhenStopped)
	sc.Step(`^HAProxy checks each server's /readyz on its admin endpoint$`, haproxyChecksReadiness)
	sc.Step(`^a client sends (\d+) lines and receives each back$`, clientSendsNLines)
	sc.Step(`^a client sends (\d+) datagrams and receives each back$`, clientSendsNDatagrams)
	sc.Step(`^the admin endpoint's metrics pass promtool's check$`, metricsPassPromtool)
	sc.Step(`^its /metrics include:$`, metricsInclude)
	sc.Step(`^(tcpserver|udpserver) is sent (SIGTERM|SIGINT|SIGHUP)$`, serverIsSentSignal)
	sc.Step(`^its /readyz answers (\d+) within (\d+) milliseconds$`, readyzAnswersWithin)
	sc.Step(`^(\d+) clients of the admin endpoint each make a request and keep their connections open$`, adminClientsStayIdle)
	sc.Step(`^a new client's /healthz answers (\d+) within (\d+) seconds?$`, newClientsHealthzAnswersWithin)
	sc.Step(`^new clients are still served until (\d+) seconds? after the signal$`, newClientsServedUntil)
	sc.Step(`^it exits with status (\d+), no sooner than (\d+) seconds? after the signal$`, exitsNoSoonerThan)
	sc.Step(`^clients keep connecting through HAProxy, one line each$`, clientsKeepConnecting)
	sc.Step(`^every client through HAProxy was served, none refused$`, everyClientServed)
	sc.Step(`^(tcpserver|udpserver) is started by systemd-socket-activate on a free port$`, startedBySocketActivation)
	sc.Step(`^a client is served through that socket: `+quoted+` comes back$`, servedThroughPassedSocket)
}

// adminClientsStayIdle is the step `^(\d+) clients of the admin endpoint each make a request and keep their connections open$`.
func adminClientsStayIdle(ctx context.Context, n int) error {
	w := worldFrom(ctx)
	url, err := w.adminURL()
	if err != nil {
		return err
	}
	host := strings.TrimPrefix(url, "http://")
	for i := range n {
		c, err := net.DialTimeout("tcp", host, patience)
		if err != nil {
			return fmt.Errorf("admin client %d of %d: %w", i+1, n, err)
		}
		w.scratch.closers = append(w.scratch.closers, func() { c.Close() })
		c.SetDeadline(time.Now().Add(patience))
		if _, err := fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", host); err != nil {
			return fmt.Errorf("admin client %d of %d: %w", i+1, n, err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return fmt.Errorf("admin client %d of %d: %w", i+1, n, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Close {
			return fmt.Errorf("admin client %d of %d: the endpoint would not keep the connection open", i+1, n)
		}
	}
	return nil
}

// newClientsHealthzAnswersWithin is the step `^a new client's /healthz answers (\d+) within (\d+) seconds?$`.
func newClientsHealthzAnswersWithin(ctx context.Context, status, seconds int) error {
	url, err := worldFrom(ctx).adminURL()
	if err != nil {
		return err
	}
	limit := time.Duration(seconds) * time.Second
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 3 * limit}
	start := time.Now()
	resp, err := client.Get(url + "/healthz")
	took := time.Since(start)
	if err != nil {
		return fmt.Errorf("/healthz: %w (after %v)", err, took.Round(time.Millisecond))
	}
	resp.Body.Close()
	if resp.StatusCode != status {
		return fmt.Errorf("/healthz answered %d, not %d", resp.StatusCode, status)
	}
	if took > limit {
		return fmt.Errorf("/healthz answered only after %v, more than %v", took.Round(time.Millisecond), limit)
	}
	return nil
}
