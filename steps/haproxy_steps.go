package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"

	"github.com/echospec/echo/impl/tcpecho"
)

// backend is one server behind HAProxy and what it saw.
type backend struct {
	addr   string
	admin  string           // its admin endpoint, host:port, if it has one
	events *eventLog[event] // nil for a server that is not ours
}

// backendOf is svc as a server behind HAProxy.
func backendOf(ctx context.Context, svc service, events *eventLog[event]) (backend, error) {
	b := backend{addr: svc.address(), events: events}
	if p := svc.process(); p != nil && serverOf(ctx).ops.admin {
		url, err := p.adminURL()
		if err != nil {
			return b, err
		}
		b.admin = strings.TrimPrefix(url, "http://")
	}
	return b, nil
}

// haproxySendsProxyHeader is the step `^HAProxy sends each server a PROXY (v1|v2) header$`.
func haproxySendsProxyHeader(ctx context.Context, version string) error {
	w := worldFrom(ctx)
	return w.configure(func() {
		w.haproxy.balancer.sendProxy = map[string]string{"v1": "send-proxy", "v2": "send-proxy-v2"}[version]
		w.server.proxy = tcpecho.ProxyRequired
	})
}

// haproxyChecksEachServerBySending is the step `^HAProxy checks each server by sending `+quoted+` and expecting it back$`.
func haproxyChecksEachServerBySending(ctx context.Context, text string) error {
	msg, err := unquote(text)
	if err != nil {
		return err
	}
	w := worldFrom(ctx)
	return w.configure(func() { w.haproxy.balancer.check = msg })
}

// haproxyTerminatesTLS is the step `^HAProxy terminates TLS with a certificate from the test authority$`.
func haproxyTerminatesTLS(ctx context.Context) error {
	w := worldFrom(ctx)
	combined, err := w.serverPEM("haproxy.pem")
	if err != nil {
		return err
	}
	return w.configure(func() { w.haproxy.balancer.tlsPEM = combined })
}

// haproxyBalancesRoundRobin is the step `^HAProxy balances round robin over (\d+) such servers?(?: and a server that answers every line with `+quoted+`)?$`.
// It starts the servers, the scenario's own first, and HAProxy in front of
// them; from then on clients connect to HAProxy.
func haproxyBalancesRoundRobin(ctx context.Context, n int, broken string) error {
	w := worldFrom(ctx)
	if err := w.startServer(); err != nil {
		return err
	}
	first, err := backendOf(ctx, w.server.svc, w.server.events)
	if err != nil {
		return err
	}
	w.haproxy.backends = []backend{first}
	for range n - 1 {
		events := newEventLog(summary)
		svc, err := startTCP(w.target, w.server.tcpConfig, events)
		if err != nil {
			return err
		}
		w.scratch.closers = append(w.scratch.closers, func() { svc.close() })
		b, err := backendOf(ctx, svc, events)
		if err != nil {
			return err
		}
		w.haproxy.backends = append(w.haproxy.backends, b)
	}
	if broken != "" {
		reply, err := unquote(broken)
		if err != nil {
			return err
		}
		f, err := startFake(answerEveryLine(reply))
		if err != nil {
			return err
		}
		w.clients.fakes = append(w.clients.fakes, f)
		w.haproxy.backends = append(w.haproxy.backends, backend{addr: f.addr()})
	}
	if err := w.startBalancer(ctx); err != nil {
		return err
	}
	w.server.addr = w.haproxy.lb.addr
	return nil
}

// haproxysBackendReads is the step `^HAProxy's backend reads:$`: the
// backend section of the configuration HAProxy runs, line for line
// (indentation aside), <server N> standing for the Nth server's address
// and <admin N> for its admin endpoint's.
func haproxysBackendReads(ctx context.Context, doc *godog.DocString) error {
	front := haproxyOf(ctx)
	if front.lb == nil {
		return errors.New("HAProxy is not running")
	}
	_, backend, ok := strings.Cut(front.lb.conf, "\nbackend ")
	if !ok {
		return fmt.Errorf("no backend in HAProxy's configuration:\n%s", front.lb.conf)
	}
	backend = "backend " + backend
	for i, b := range front.backends {
		backend = strings.ReplaceAll(backend, b.addr, fmt.Sprintf("<server %d>", i+1))
		if b.admin != "" {
			_, port, _ := net.SplitHostPort(b.admin)
			backend = strings.ReplaceAll(backend, "port "+port, fmt.Sprintf("port <admin %d>", i+1))
		}
	}
	lines := func(s string) []string {
		var out []string
		for l := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
			out = append(out, strings.TrimSpace(l))
		}
		return out
	}
	assert.Equal(godog.T(ctx), lines(doc.Content), lines(backend), "HAProxy's backend")
	return nil
}

// startBalancer starts HAProxy in front of the scenario's backends.
func (w *world) startBalancer(ctx context.Context) error {
	dir, err := w.tempDir()
	if err != nil {
		return err
	}
	servers := make([]haproxyServer, len(w.haproxy.backends))
	for i, b := range w.haproxy.backends {
		servers[i] = haproxyServer{Addr: b.addr, Admin: b.admin}
	}
	h, err := startHAProxy(dir, w.haproxy.balancer, servers)
	if errors.Is(err, errMissingTool) {
		return skipScenario(ctx, "%v", err)
	}
	if err != nil {
		return err
	}
	w.haproxy.lb = h
	w.scratch.closers = append(w.scratch.closers, h.stop)
	return nil
}

// eachServerServedNOfClients is the step `^each of the (\d+) servers served (\d+) of the clients$`.
func eachServerServedNOfClients(ctx context.Context, n, m int) error {
	front := haproxyOf(ctx)
	if len(front.backends) != n {
		return fmt.Errorf("%d servers are behind HAProxy, not %d", len(front.backends), n)
	}
	for i, b := range front.backends {
		_, err := b.events.waitFor(ctx, fmt.Sprintf("server %d to serve %d clients", i+1, m), func(events []event) bool {
			return count(events, tcpecho.ConnOpened) == m
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// eachServerSawClientsOwnAddresses is the step `^the servers saw `+clientList+` by their own addresses, through HAProxy$`.
func eachServerSawClientsOwnAddresses(ctx context.Context, list string) error {
	w := worldFrom(ctx)
	for _, name := range names(list) {
		p, err := w.peer(name)
		if err != nil {
			return err
		}
		if err := w.sawThroughBalancer(ctx, p.local()); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// sawThroughBalancer waits until one of the servers behind HAProxy has
// seen a connection from client, relayed by HAProxy.
func (w *world) sawThroughBalancer(ctx context.Context, client string) error {
	seen := func(events []event) bool {
		for _, e := range events {
			if e.kind == tcpecho.ConnOpened && e.remote == client && e.proxy != "" && e.proxy != client {
				return true
			}
		}
		return false
	}
	// Wait on every server at once; the first to have seen it ends the
	// others' waits.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	found := make(chan error, len(w.haproxy.backends))
	for _, b := range w.haproxy.backends {
		go func() {
			_, err := b.events.waitFor(ctx, "a connection from "+client+" through HAProxy", seen)
			found <- err
		}()
	}
	var errs []error
	for range w.haproxy.backends {
		err := <-found
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// haproxySeesServersUp is the step `^HAProxy sees (\d+) servers? up(?: and (\d+) down)?$`.
func haproxySeesServersUp(ctx context.Context, up int, down string) error {
	front := haproxyOf(ctx)
	if front.lb == nil {
		return errNoBalancer
	}
	d := 0
	if down != "" {
		d, _ = strconv.Atoi(down)
	}
	return front.lb.waitForStates(ctx, up, d)
}

// registerHAProxySteps registers the steps of this file: hAProxy in front of our servers.
func registerHAProxySteps(sc *godog.ScenarioContext) {
	sc.Step(`^HAProxy sends each server a PROXY (v1|v2) header$`, haproxySendsProxyHeader)
	sc.Step(`^HAProxy checks each server by sending `+quoted+` and expecting it back$`, haproxyChecksEachServerBySending)
	sc.Step(`^HAProxy terminates TLS with a certificate from the test authority$`, haproxyTerminatesTLS)
	sc.Step(`^HAProxy balances round robin over (\d+) such servers?(?: and a server that answers every line with `+quoted+`)?$`, haproxyBalancesRoundRobin)
	sc.Step(`^HAProxy's backend reads:$`, haproxysBackendReads)
	sc.Step(`^each of the (\d+) servers served (\d+) of the clients$`, eachServerServedNOfClients)
	sc.Step(`^the servers saw `+clientList+` by their own addresses, through HAProxy$`, eachServerSawClientsOwnAddresses)
	sc.Step(`^HAProxy sees (\d+) servers? up(?: and (\d+) down)?$`, haproxySeesServersUp)
}
