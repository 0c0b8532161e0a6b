package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cucumber/godog"

	"github.com/echospec/echo/impl/udpecho"
)

// netns is a network namespace a scenario made: its own loopback, its
// own iptables rules and conntrack table, where a virtual address is
// sent on to a server by a DNAT rule, as kube-proxy does for a Service.
type netns struct {
	name string
	vip  string // the virtual address, host:port
	rule string // the server the DNAT rule sends it to now
}

var netnsCount atomic.Int64

// command is name run with args in the namespace.
func (n *netns) command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.name, name}, args...)...)
}

// echobenchCommand is echobench from bin with args, run in the namespace
// n unless it is nil.
func echobenchCommand(ctx context.Context, bin string, n *netns, args ...string) *exec.Cmd {
	name := filepath.Join(bin, "echobench")
	if n != nil {
		args = append([]string{"netns", "exec", n.name, name}, args...)
		name = "ip"
	}
	return exec.CommandContext(ctx, name, args...)
}

// exitStatus is the exit status err, from a command's Run, says: 0 for
// none; an error only when the command could not run.
func exitStatus(err error) (int, error) {
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), nil
	case err != nil:
		return 0, err
	}
	return 0, nil
}

// run runs a tool in the namespace and says what it said when it fails.
func (n *netns) run(name string, args ...string) error {
	out, err := n.command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s in namespace %s: %w: %s", name, strings.Join(args, " "), n.name, err, out)
	}
	return nil
}

// dnat makes the rule send UDP for the virtual address to addr, adding
// it (add) or replacing it.
func (n *netns) dnat(addr string, add bool) error {
	host, port, err := net.SplitHostPort(n.vip)
	if err != nil {
		return err
	}
	verb := []string{"-R", "OUTPUT", "1"}
	if add {
		verb = []string{"-A", "OUTPUT"}
	}
	args := append([]string{"-t", "nat"}, verb...)
	args = append(args, "-p", "udp", "-d", host, "--dport", port, "-j", "DNAT", "--to-destination", addr)
	if err := n.run("iptables", args...); err != nil {
		return err
	}
	n.rule = addr
	return nil
}

// makeNetns makes a namespace with loopback up and vip's address, if any, on it,
// or skips the scenario where it cannot be made here.
func makeNetns(ctx context.Context, vip string) (*netns, error) {
	if err := needBinaries(ctx); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, skipScenario(ctx, "a network namespace needs root")
	}
	for _, tool := range []string{"ip", "iptables", "conntrack"} {
		if _, err := lookTool(tool); err != nil {
			return nil, skipScenario(ctx, "%v (Debian: apt-get install iproute2 iptables conntrack)", err)
		}
	}
	n := &netns{name: fmt.Sprintf("echo-%d-%d", os.Getpid(), netnsCount.Add(1)), vip: vip}
	if out, err := exec.Command("ip", "netns", "add", n.name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %w: %s", n.name, err, out)
	}
	w := worldFrom(ctx)
	w.scratch.closers = append(w.scratch.closers, func() { exec.Command("ip", "netns", "del", n.name).Run() })
	if err := n.run("ip", "link", "set", "lo", "up"); err != nil {
		return nil, err
	}
	if vip == "" {
		return n, nil
	}
	host, _, err := net.SplitHostPort(vip)
	if err != nil {
		return nil, err
	}
	if err := n.run("ip", "addr", "add", host+"/32", "dev", "lo"); err != nil {
		return nil, err
	}
	return n, nil
}

// startInNetns starts udpserver named name in the namespace.
func startInNetns(ctx context.Context, n *netns, name string) (*namedServer, error) {
	w := worldFrom(ctx)
	events := newEventLog(udpSummary)
	p, err := startProcess(w.target.Bin, "udpserver", []string{"-identity", name}, processOptions{onEvent: udpEvents(events), netns: n.name})
	if err != nil {
		return nil, err
	}
	w.scratch.closers = append(w.scratch.closers, p.kill)
	s := &namedServer{udpEvents: events, proc: p}
	rolloutOf(ctx).servers[name] = s
	return s, nil
}

// namespaceWithDNAT is the step `^a network namespace where UDP to (\S+) goes, by a DNAT rule, to a UDP echo server named "([^"]+)"$`.
func namespaceWithDNAT(ctx context.Context, vip, name string) error {
	n, err := makeNetns(ctx, vip)
	if err != nil {
		return err
	}
	rolloutOf(ctx).netns = n
	s, err := startInNetns(ctx, n, name)
	if err != nil {
		return err
	}
	return n.dnat(s.proc.addr, true)
}

// secondServerInNetns is the step `^a second UDP echo server named "([^"]+)" in the namespace$`.
func secondServerInNetns(ctx context.Context, name string) error {
	n := rolloutOf(ctx).netns
	if n == nil {
		return errors.New("no network namespace in this scenario")
	}
	_, err := startInNetns(ctx, n, name)
	return err
}

// ruleSwitched is the step `^once "([^"]+)" has answered each of the watch's flows, the rule is switched to "([^"]+)" and "([^"]+)" is stopped$`.
func ruleSwitched(ctx context.Context, from, to, stopped string) error {
	room := rolloutOf(ctx)
	a, b := room.servers[from], room.servers[to]
	if room.netns == nil || a == nil || b == nil || room.servers[stopped] != a || room.watch == nil {
		return errors.New("this step switches the namespace's rule from one of its servers to the other, and stops the first, under a watch")
	}
	_, err := a.udpEvents.waitFor(ctx, fmt.Sprintf("answers to %d flows", room.watch.flows), func(events []udpEvent) bool {
		sources := map[netip.AddrPort]bool{}
		for _, e := range events {
			if e.kind == udpecho.Answered {
				sources[e.source] = true
			}
		}
		return len(sources) >= room.watch.flows
	})
	if err != nil {
		return err
	}
	if err := room.netns.dnat(b.proc.addr, false); err != nil {
		return err
	}
	if err := a.proc.signal(syscall.SIGTERM); err != nil {
		return err
	}
	_, err = a.proc.wait(patience)
	return err
}

// watchRow matches what a watch's row says of its silent flows.
var silentRow = regexp.MustCompile(`silent flows (\d+), for up to (\S+)`)

// flowsRefusedAndSilent is the step `^the watch's (\d+) flows are refused, and silent for (\d+) seconds? or more, while the conntrack entries last$`.
func flowsRefusedAndSilent(ctx context.Context, flows, seconds int) error {
	run := rolloutOf(ctx).watch
	if run == nil {
		return errors.New("no watch runs in this scenario")
	}
	ctx, cancel := context.WithTimeout(ctx, patience+time.Duration(seconds)*time.Second)
	defer cancel()
	refused := false
	_, err := run.rows.Wait(ctx, fmt.Sprintf("a row with %d flows refused and silent for %ds", flows, seconds), func(line string) (string, bool) {
		refused = refused || strings.Contains(line, "  refused ")
		m := silentRow.FindStringSubmatch(line)
		if m == nil || !refused {
			return "", false
		}
		n, _ := strconv.Atoi(m[1])
		d, err := time.ParseDuration(m[2])
		return line, err == nil && n == flows && d >= time.Duration(seconds)*time.Second
	})
	return err
}

// conntrackDeleted is the step `^the conntrack entries for (\S+) are deleted$`.
func conntrackDeleted(ctx context.Context, host string) error {
	n := rolloutOf(ctx).netns
	if n == nil {
		return errors.New("no network namespace in this scenario")
	}
	return n.run("conntrack", "-D", "-p", "udp", "--orig-dst", host)
}

// eachFlowOneGap is the step `^each of the watch's (\d+) flows has one gap, a refusal, from "([^"]+)" to "([^"]+)"$`.
func eachFlowOneGap(ctx context.Context, flows int, from, to string) error {
	run, err := finishedWatch(ctx)
	if err != nil {
		return err
	}
	per := map[int]int{}
	for _, g := range run.report.Watch.Gaps {
		per[g.Flow]++
		if g.Cause != "refused" || g.Before != from || g.After != to || g.Open {
			return fmt.Errorf("flow %d had a gap of %.0f ms, %s, from %q to %q%s", g.Flow, g.LengthMS, g.Cause, g.Before, g.After, map[bool]string{true: ", still open at the end"}[g.Open])
		}
	}
	for f := 1; f <= flows; f++ {
		if per[f] != 1 {
			return fmt.Errorf("flow %d had %d gaps: %+v", f, per[f], run.report.Watch.Gaps)
		}
	}
	return nil
}

func registerNetnsSteps(sc *godog.ScenarioContext) {
	sc.Step(`^a network namespace where UDP to (\S+) goes, by a DNAT rule, to a UDP echo server named "([^"]+)"$`, namespaceWithDNAT)
	sc.Step(`^a second UDP echo server named "([^"]+)" in the namespace$`, secondServerInNetns)
	sc.Step(`^once "([^"]+)" has answered each of the watch's flows, the rule is switched to "([^"]+)" and "([^"]+)" is stopped$`, ruleSwitched)
	sc.Step(`^the watch's (\d+) flows are refused, and silent for (\d+) seconds? or more, while the conntrack entries last$`, flowsRefusedAndSilent)
	sc.Step(`^the conntrack entries for (\S+) are deleted$`, conntrackDeleted)
	sc.Step(`^each of the watch's (\d+) flows has one gap, a refusal, from "([^"]+)" to "([^"]+)"$`, eachFlowOneGap)
}
