package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cucumber/godog"

	"github.com/echospec/echo/impl/echobench"
	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/impl/udpecho"
	"github.com/echospec/echo/internal/identity"
	"github.com/echospec/echo/internal/lines"
)

// rolloutRoom is what a rollout scenario runs: named servers, and the
// watch of them.
type rolloutRoom struct {
	servers map[string]*namedServer
	watch   *watchRun
	netns   *netns
}

// namedServer is one of a rollout's servers, by its identity.
type namedServer struct {
	svc       service
	events    *eventLog[event]    // a TCP server's
	udpEvents *eventLog[udpEvent] // a UDP server's
	proc      *serverProcess      // where it is a process of its own
	signalled time.Time           // when it was last sent a signal
	tcpConfig tcpConfig           // how it was started (TCP)
}

// watchRun is a watch that a scenario started, and what it reported.
type watchRun struct {
	flows  int
	d      time.Duration // how long it sends
	done   chan struct{}
	rows   *lines.Output // what it printed as it went (the binary's stderr)
	report echobench.Report
	exit   int    // its exit status: 1 when a gate was exceeded
	last   string // the last line it printed: why it failed, if it did
	err    error  // why it could not run at all
}

// rolloutOf is the scenario's rollout room, made when first needed.
func rolloutOf(ctx context.Context) *rolloutRoom {
	w := worldFrom(ctx)
	if w.rollout == nil {
		w.rollout = &rolloutRoom{servers: map[string]*namedServer{}}
	}
	return w.rollout
}

var namesList = regexp.MustCompile(`"([^"]+)"`)

// quotedNames reads a list such as `"a", "b" and "c"`.
func quotedNames(list string) []string {
	var out []string
	for _, m := range namesList.FindAllStringSubmatch(list, -1) {
		out = append(out, m[1])
	}
	return out
}

// namedServersBehindHAProxy is the step `^(\d+) (stream|line) echo servers named (.+) behind HAProxy(, each draining for (\d+) seconds? when stopped)?$`.
func namedServersBehindHAProxy(ctx context.Context, n int, framing, list, draining, drain string) error {
	named := quotedNames(list)
	if len(named) != n {
		return fmt.Errorf("%d servers, but %d names: %s", n, len(named), list)
	}
	w := worldFrom(ctx)
	cfg := w.server.tcpConfig
	if err := cfg.framing.UnmarshalText([]byte(framing)); err != nil {
		return err
	}
	if draining != "" {
		if err := needBinaries(ctx); err != nil {
			return err
		}
		seconds, err := strconv.Atoi(drain)
		if err != nil {
			return err
		}
		cfg.ops = opsConfig{admin: true, drainDelay: time.Duration(seconds) * time.Second}
		w.haproxy.balancer.readyz = true
	}
	// HAProxy checks each server, so that it stops sending clients to
	// one that is gone.
	w.haproxy.balancer.connect = true
	room := rolloutOf(ctx)
	for _, name := range named {
		c := cfg
		c.identity = name
		events := newEventLog(summary)
		svc, err := startTCP(w.target, c, events)
		if err != nil {
			return err
		}
		w.scratch.closers = append(w.scratch.closers, func() { svc.close() })
		room.servers[name] = &namedServer{svc: svc, events: events, proc: svc.process(), tcpConfig: c}
		b := backend{addr: svc.address(), events: events}
		if p := svc.process(); p != nil && c.ops.admin {
			url, err := p.adminURL()
			if err != nil {
				return err
			}
			b.admin = strings.TrimPrefix(url, "http://")
		}
		w.haproxy.backends = append(w.haproxy.backends, b)
	}
	if err := w.startBalancer(ctx); err != nil {
		return err
	}
	return w.haproxy.lb.waitForStates(ctx, len(w.haproxy.backends), 0)
}

// watchRuns is the step `^a watch of (\d+) (TCP|UDP) flows runs (through HAProxy |in the namespace, to (\S+), )?for (\d+) seconds?(?:, with -max-gap (\S+))?$`.
func watchRuns(ctx context.Context, flows int, proto, where, vip string, seconds int, maxGap string) error {
	w := worldFrom(ctx)
	room := rolloutOf(ctx)
	// An echo gets 3 s before it is late, and the end waits that long for
	// what is due: a machine that runs every scenario at once can hold a
	// datagram up for a second.
	cfg := echobench.Config{Mode: echobench.Watch, Proto: strings.ToLower(proto), Conns: flows, Duration: time.Duration(seconds) * time.Second, Timeout: 3 * time.Second}
	addr, err := watchTarget(w, cfg.Proto, where, vip)
	if err != nil {
		return err
	}
	cfg.Addr = addr
	gate := time.Duration(0)
	if maxGap != "" {
		if gate, err = time.ParseDuration(maxGap); err != nil {
			return err
		}
	}
	run := &watchRun{flows: flows, d: cfg.Duration, done: make(chan struct{}), rows: lines.NewOutput()}
	room.watch = run
	// The watch is the scenario's: it ends with it, whatever happens.
	watchCtx, cancel := context.WithCancel(context.Background())
	w.scratch.closers = append(w.scratch.closers, func() { cancel(); <-run.done })
	if w.target.Mode != Process {
		go run.library(watchCtx, cfg, gate)
		return nil
	}
	args := []string{"-mode", "watch", "-proto", cfg.Proto, "-addr", cfg.Addr, "-c", strconv.Itoa(flows), "-d", cfg.Duration.String(), "-timeout", cfg.Timeout.String(), "-json", "-"}
	if gate > 0 {
		args = append(args, "-max-gap", gate.String())
	}
	var n *netns
	if vip != "" {
		n = room.netns
	}
	go run.process(echobenchCommand(watchCtx, w.target.Bin, n, args...))
	return nil
}

// watchTarget is where a watch goes: through HAProxy, to the namespace's
// virtual address, to a server that is not ours, or to the scenario's
// server.
func watchTarget(w *world, proto, where, vip string) (string, error) {
	switch {
	case strings.HasPrefix(where, "through HAProxy"):
		if w.haproxy.lb == nil {
			return "", errNoBalancer
		}
		return w.haproxy.lb.addr, nil
	case vip != "":
		if w.rollout == nil || w.rollout.netns == nil {
			return "", errors.New("no network namespace in this scenario")
		}
		return vip, nil
	case proto == echobench.UDP && w.udp.elsewhere != "":
		return w.udp.elsewhere, nil
	case proto == echobench.TCP && w.clients.elsewhere != "":
		return w.clients.elsewhere, nil
	case proto == echobench.UDP:
		err := w.udp.startServer()
		return w.udp.addr, err
	}
	err := w.startServer()
	return w.server.addr, err
}

// process runs the watch as echobench, and reads its report.
func (r *watchRun) process(cmd *exec.Cmd) {
	defer close(r.done)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, r.rows
	status, err := exitStatus(cmd.Run())
	if err != nil {
		r.err = fmt.Errorf("echobench: %w", err)
		return
	}
	r.exit = status
	out := strings.TrimSpace(r.rows.String())
	r.last = out[strings.LastIndexByte(out, '\n')+1:]
	if err := json.Unmarshal(stdout.Bytes(), &r.report); err != nil {
		r.err = fmt.Errorf("echobench's report: %w; it printed: %s", err, out)
	}
}

// library runs the watch with the library, judging it as echobench does.
func (r *watchRun) library(ctx context.Context, cfg echobench.Config, gate time.Duration) {
	defer close(r.done)
	res, err := echobench.RunWatch(ctx, cfg, func(s echobench.WatchSecond) {
		line, _ := json.Marshal(s)
		fmt.Fprintf(r.rows, "%s\n", line)
	})
	if err != nil {
		r.err = err
		return
	}
	if r.report, err = echobench.NewWatchReport(res); err != nil {
		r.err = err
		return
	}
	if err := res.Judge(gate, -1); err != nil {
		r.exit, r.last = 1, "echobench: "+err.Error()
	}
}

// finished waits for the scenario's watch to end, a little past its
// duration, and returns it.
func finishedWatch(ctx context.Context) (*watchRun, error) {
	run := rolloutOf(ctx).watch
	if run == nil {
		return nil, errors.New("no watch runs in this scenario")
	}
	limit := run.d + 30*time.Second
	select {
	case <-run.done:
	case <-time.After(limit):
		return nil, fmt.Errorf("the watch did not end; it printed: %s", run.rows.String())
	}
	if run.err != nil {
		return nil, run.err
	}
	if run.report.Watch == nil {
		return nil, fmt.Errorf("the watch reported nothing of a watch; it printed: %s", run.rows.String())
	}
	return run, nil
}

// serverActedOn is the step `^"([^"]+)" is (stopped with SIGTERM|killed with SIGKILL|paused with SIGSTOP for (\d+) seconds?) once it has echoed some of the watch's messages$`.
func serverActedOn(ctx context.Context, name, action, pause string) error {
	if err := needBinaries(ctx); err != nil {
		return err
	}
	s, err := namedServerOf(ctx, name)
	if err != nil {
		return err
	}
	if err := s.echoedSome(ctx); err != nil {
		return err
	}
	s.signalled = time.Now()
	switch {
	case strings.HasPrefix(action, "stopped"):
		return s.proc.signal(syscall.SIGTERM)
	case strings.HasPrefix(action, "killed"):
		return s.proc.signal(syscall.SIGKILL)
	}
	if err := s.proc.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	seconds, err := strconv.Atoi(pause)
	if err != nil {
		return err
	}
	// The pause is the scenario's subject, not a wait for an event.
	time.Sleep(time.Duration(seconds) * time.Second)
	return s.proc.signal(syscall.SIGCONT)
}

// namedServerOf returns the scenario's server named name.
func namedServerOf(ctx context.Context, name string) (*namedServer, error) {
	s := rolloutOf(ctx).servers[name]
	if u := worldFrom(ctx).udp; s == nil && u.identity == name && u.process() != nil {
		s = &namedServer{svc: u.svc, udpEvents: u.events, proc: u.process()}
		rolloutOf(ctx).servers[name] = s
	}
	if s == nil || s.proc == nil {
		return nil, fmt.Errorf("no server process named %q in this scenario", name)
	}
	return s, nil
}

// echoedSome waits until the server has echoed a watch message.
func (s *namedServer) echoedSome(ctx context.Context) error {
	if s.udpEvents != nil {
		_, err := s.udpEvents.waitFor(ctx, "an echo of the watch's", func(events []udpEvent) bool {
			return slices.ContainsFunc(events, func(e udpEvent) bool { return e.kind == udpecho.Answered })
		})
		return err
	}
	_, err := s.events.waitFor(ctx, "an echo of the watch's", func(events []event) bool {
		written := 0
		for _, e := range events {
			if e.kind == tcpecho.DataWritten {
				written += e.bytes
			}
		}
		return written > identity.Size
	})
	return err
}

// serverExitsWithStatus is the step `^"([^"]+)" exits with status (\d+)$`.
func serverExitsWithStatus(ctx context.Context, name string, status int) error {
	s, err := namedServerOf(ctx, name)
	if err != nil {
		return err
	}
	got, err := s.proc.wait(patience + s.tcpConfig.ops.drainDelay)
	if err != nil {
		return err
	}
	if got != status {
		return fmt.Errorf("%s exited with status %d; its log: %s", name, got, s.proc.stderr.String())
	}
	return nil
}

// watchNamesBackends is the step `^the watch names the backends (.+)$`.
func watchNamesBackends(ctx context.Context, list string) error {
	run, err := finishedWatch(ctx)
	if err != nil {
		return err
	}
	want := quotedNames(list)
	slices.Sort(want)
	got := slices.Sorted(maps.Keys(run.report.Watch.Backends))
	if !slices.Equal(got, want) {
		return fmt.Errorf("the watch named %v (and %d echoes from servers without a name), not %v", run.report.Watch.Backends, run.report.Watch.Unidentified, want)
	}
	return nil
}

// watchLost is the step `^the watch lost (nothing|at most 1 in (\d+) of its messages), and no flow's connection ended$`.
// A silence while the machine that runs every scenario at once is busy is
// not the service's doing: this asks only what the service decides. Every
// message sent is echoed or counted lost, never both and never neither.
func watchLost(ctx context.Context, how, oneIn string) error {
	run, err := finishedWatch(ctx)
	if err != nil {
		return err
	}
	wr := run.report.Watch
	ended := slices.ContainsFunc(wr.Gaps, func(g echobench.GapReport) bool { return g.Cause != echobench.CauseTimeout })
	most := int64(0)
	if how != "nothing" {
		n, err := strconv.ParseInt(oneIn, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("1 in %q: %w", oneIn, err)
		}
		most = wr.Sent / n
	}
	if wr.Lost > most || ended || wr.Reconnects != 0 || wr.Sent == 0 || wr.Echoed+wr.Lost != wr.Sent {
		return fmt.Errorf("sent %d, echoed %d, lost %d (at most %d), reconnects %d, gaps %+v", wr.Sent, wr.Echoed, wr.Lost, most, wr.Reconnects, wr.Gaps)
	}
	return nil
}

// everyMessageReadCameBack is the step `^every message "([^"]+)" read came back to the watch$`.
func everyMessageReadCameBack(ctx context.Context, name string) error {
	run, err := finishedWatch(ctx)
	if err != nil {
		return err
	}
	s, err := namedServerOf(ctx, name)
	if err != nil {
		return err
	}
	read, conns := 0, 0
	for _, e := range s.events.snapshot() {
		switch e.kind {
		case tcpecho.DataRead:
			read += e.bytes
		case tcpecho.ConnOpened:
			conns++
		}
	}
	// Each connection opened with the identity probe; the rest it read
	// were the watch's messages.
	size := run.report.Config.Size
	messages := read - conns*identity.Size
	echoes := run.report.Watch.Backends[name]
	if messages%size != 0 || int64(messages/size) != echoes {
		return fmt.Errorf("%s read %d bytes on %d connections: %d probes and %.2f messages of %d bytes; the watch got %d echoes from it (lost %d in all)",
			name, read, conns, conns, float64(messages)/float64(size), size, echoes, run.report.Watch.Lost)
	}
	return nil
}

// flowsMovedTo is the step `^the flows "([^"]+)" served moved to (.+), each within (\d+) milliseconds, (?:closed by the server|reset|closed by the server or reset)$`.
func flowsMovedTo(ctx context.Context, from, list string, ms int, causes string) error {
	run, err := finishedWatch(ctx)
	if err != nil {
		return err
	}
	others := quotedNames(list)
	allowed := strings.Split(strings.TrimSpace(causes), " or ")
	moved := 0
	for _, g := range run.report.Watch.Gaps {
		if g.Before != from {
			continue
		}
		moved++
		switch {
		case !slices.Contains(others, g.After):
			return fmt.Errorf("flow %d moved from %s to %q, not to one of %v", g.Flow, from, g.After, others)
		case g.LengthMS > float64(ms):
			return fmt.Errorf("flow %d's gap lasted %.0f ms, longer than %d (%s)", g.Flow, g.LengthMS, ms, g.Cause)
		case !slices.Contains(allowed, g.Cause):
			return fmt.Errorf("flow %d's gap says %q, not %s", g.Flow, g.Cause, causes)
		}
	}
	if moved == 0 {
		return fmt.Errorf("no flow moved from %s: gaps %+v, backends %v", from, run.report.Watch.Gaps, run.report.Watch.Backends)
	}
	if run.report.Watch.Reconnects < int64(moved) {
		return fmt.Errorf("%d flows moved, but the watch reconnected %d times", moved, run.report.Watch.Reconnects)
	}
	return nil
}

// lastSecondFrom is the step `^in the watch's last second only (.+) answered$`.
func lastSecondFrom(ctx context.Context, list string) error {
	run, err := finishedWatch(ctx)
	if err != nil {
		return err
	}
	secs := run.report.Watch.Seconds
	if len(secs) == 0 {
		return errors.New("the watch reported no second")
	}
	last := secs[len(secs)-1]
	if last.Echoed == 0 && len(secs) > 1 {
		last = secs[len(secs)-2] // a second the watch ended early in
	}
	want := quotedNames(list)
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(last.Backends)); !slices.Equal(got, want) {
		return fmt.Errorf("in second %d %v answered, not %v", last.Second, last.Backends, want)
	}
	return nil
}

// watchLongestGap is the step `^the watch's longest gap is (\d+) to (\d+) milliseconds, a (timeout|refusal)$`.
func watchLongestGap(ctx context.Context, from, to int, cause string) error {
	run, err := finishedWatch(ctx)
	if err != nil {
		return err
	}
	want := map[string]string{"timeout": echobench.CauseTimeout, "refusal": echobench.CauseRefused}[cause]
	var longest echobench.GapReport
	for _, g := range run.report.Watch.Gaps {
		if g.LengthMS > longest.LengthMS {
			longest = g
		}
	}
	if wr := run.report.Watch; wr.LongestGapMS != longest.LengthMS {
		return fmt.Errorf("longest_gap_ms says %.1f, the gaps %+v", wr.LongestGapMS, wr.Gaps)
	}
	if longest.LengthMS < float64(from) || longest.LengthMS > float64(to) || longest.Cause != want {
		return fmt.Errorf("the longest gap lasted %.0f ms, %s; all: %+v", longest.LengthMS, longest.Cause, run.report.Watch.Gaps)
	}
	return nil
}

// watchExitsSaying is the step `^the watch exits with status (\d+), its last line:$`.
func watchExitsSaying(ctx context.Context, status int, doc *godog.DocString) error {
	run, err := finishedWatch(ctx)
	if err != nil {
		return err
	}
	pattern := regexp.QuoteMeta(strings.TrimSpace(doc.Content))
	for placeholder, re := range map[string]string{"<duration>": `[0-9.]+(?:µs|ms|s)`, "<n>": `\d+`} {
		pattern = strings.ReplaceAll(pattern, regexp.QuoteMeta(placeholder), re)
	}
	if run.exit != status || !regexp.MustCompile("^"+pattern+"$").MatchString(run.last) {
		return fmt.Errorf("the watch exited with status %d, its last line %q; due: status %d and %q", run.exit, run.last, status, doc.Content)
	}
	return nil
}

// watchExits is the step `^the watch exits with status (\d+)$`.
func watchExits(ctx context.Context, status int) error {
	run, err := finishedWatch(ctx)
	if err != nil {
		return err
	}
	if run.exit != status {
		return fmt.Errorf("the watch exited with status %d: %s", run.exit, run.last)
	}
	return nil
}

// everyEchoUnnamed is the step `^every echo came from a server without a name$`.
func everyEchoUnnamed(ctx context.Context) error {
	run, err := finishedWatch(ctx)
	if err != nil {
		return err
	}
	if wr := run.report.Watch; len(wr.Backends) > 0 || wr.Unidentified != wr.Echoed || wr.Echoed == 0 {
		return fmt.Errorf("echoes %d: %d from servers without a name, and by name %v", wr.Echoed, wr.Unidentified, wr.Backends)
	}
	return nil
}

// registerRolloutSteps registers the steps of this file: named servers
// behind a balancer, a watch of them, and what a rollout does to it.
func registerRolloutSteps(sc *godog.ScenarioContext) {
	sc.Step(`^(\d+) (stream|line) echo servers named (.+) behind HAProxy(, each draining for (\d+) seconds? when stopped)?$`, namedServersBehindHAProxy)
	sc.Step(`^a watch of (\d+) (TCP|UDP) flows runs (through HAProxy |in the namespace, to (\S+), )?for (\d+) seconds?(?:, with -max-gap (\S+))?$`, watchRuns)
	sc.Step(`^"([^"]+)" is (stopped with SIGTERM|killed with SIGKILL|paused with SIGSTOP for (\d+) seconds?) once it has echoed some of the watch's messages$`, serverActedOn)
	sc.Step(`^"([^"]+)" exits with status (\d+)$`, serverExitsWithStatus)
	sc.Step(`^the watch names the backends (.+)$`, watchNamesBackends)
	sc.Step(`^the watch lost (nothing|at most 1 in (\d+) of its messages), and no flow's connection ended$`, watchLost)
	sc.Step(`^every message "([^"]+)" read came back to the watch$`, everyMessageReadCameBack)
	sc.Step(`^the flows "([^"]+)" served moved to (.+), each within (\d+) milliseconds, (closed by the server|reset|closed by the server or reset)$`, flowsMovedTo)
	sc.Step(`^in the watch's last second only (.+) answered$`, lastSecondFrom)
	sc.Step(`^the watch's longest gap is (\d+) to (\d+) milliseconds, a (timeout|refusal)$`, watchLongestGap)
	sc.Step(`^the watch exits with status (\d+), its last line:$`, watchExitsSaying)
	sc.Step(`^the watch exits with status (\d+)$`, watchExits)
	sc.Step(`^every echo came from a server without a name$`, everyEchoUnnamed)
	registerNetnsSteps(sc)
}
