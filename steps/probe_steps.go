package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/cucumber/godog"

	"github.com/echospec/echo/impl/echobench"
)

// probeRoom is a reachability probe's scenario: the places its targets
// name, and what the probe said.
type probeRoom struct {
	places map[string]string     // "<name>" → host:port
	netns  *netns                // where the probe runs, if not here
	lines  []echobench.ProbeLine // its verdicts
	exit   int
	last   string // its last line: why it failed, if it did
}

func probeOf(ctx context.Context) *probeRoom {
	w := worldFrom(ctx)
	if w.probe == nil {
		w.probe = &probeRoom{places: map[string]string{}}
	}
	return w.probe
}

// placeholder is a place a target names: <tcp server>, <a closed port>.
var placeholder = regexp.MustCompile(`<[^>]+>`)

// place returns where a placeholder points, making it on first use.
func (r *probeRoom) place(ctx context.Context, name string) (string, error) {
	if addr, ok := r.places[name]; ok {
		return addr, nil
	}
	w := worldFrom(ctx)
	switch name {
	case "<tcp server>":
		if err := w.startServer(); err != nil {
			return "", err
		}
		r.places[name] = w.server.addr
	case "<udp server>":
		if err := w.udp.startServer(); err != nil {
			return "", err
		}
		r.places[name] = w.udp.addr
	case "<a closed port>":
		port, err := freePort()
		if err != nil {
			return "", err
		}
		r.places[name] = fmt.Sprintf("127.0.0.1:%d", port)
	default:
		return "", fmt.Errorf("no place named %s in this scenario", name)
	}
	return r.places[name], nil
}

// udpSocketThatNeverAnswers is the step `^a UDP socket that reads every datagram and never answers$`.
func udpSocketThatNeverAnswers(ctx context.Context) error {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	w := worldFrom(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	w.scratch.closers = append(w.scratch.closers, func() { pc.Close(); <-done })
	probeOf(ctx).places["<a silent UDP socket>"] = pc.LocalAddr().String()
	return nil
}

// serviceInCapitals is the step `^a TCP service that answers in capitals: socat with EXEC:'tr a-z A-Z'$`.
func serviceInCapitals(ctx context.Context) error {
	w := worldFrom(ctx)
	s, addr, err := socatCapitals()
	if err := w.useThirdParty(ctx, s, err, func() {}); err != nil {
		return err
	}
	probeOf(ctx).places["<capitals>"] = addr
	return nil
}

// lossyPathToUDPServer is the step `^a path to the UDP server that loses the first datagram each way$`.
func lossyPathToUDPServer(ctx context.Context) error {
	w := worldFrom(ctx)
	if err := w.udp.startServer(); err != nil {
		return err
	}
	relay, err := startUDPRelay(w.udp.addr, 1)
	if err != nil {
		return err
	}
	w.scratch.closers = append(w.scratch.closers, relay.stop)
	probeOf(ctx).places["<the lossy path>"] = relay.addr()
	return nil
}

// echobenchProbes is the step `^echobench probes(?: with (-retries \d+))?( in the namespace)?:$`.
func echobenchProbes(ctx context.Context, flag, inNetns string, doc *godog.DocString) error {
	r := probeOf(ctx)
	w := worldFrom(ctx)
	if inNetns != "" && r.netns == nil {
		return errors.New("no network namespace in this scenario")
	}
	specs, err := r.targets(ctx, doc.Content, inNetns == "")
	if err != nil {
		return err
	}
	retries := echobench.DefaultProbeRetries
	if flag != "" {
		fmt.Sscanf(flag, "-retries %d", &retries)
	}
	if w.target.Mode == Process || inNetns != "" {
		return r.runBinary(ctx, w.target.Bin, specs, retries, inNetns != "")
	}
	return r.runLibrary(ctx, specs, retries)
}

// targets are the lines of text, their placeholders put in place where
// asked.
func (r *probeRoom) targets(ctx context.Context, text string, place bool) ([]string, error) {
	var specs []string
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		spec := strings.TrimSpace(line)
		for _, name := range placeholder.FindAllString(spec, -1) {
			if !place {
				break
			}
			addr, err := r.place(ctx, name)
			if err != nil {
				return nil, err
			}
			spec = strings.Replace(spec, name, addr, 1)
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

// runLibrary probes with the library, judging as echobench probe does.
func (r *probeRoom) runLibrary(ctx context.Context, specs []string, retries int) error {
	targets := make([]echobench.Target, len(specs))
	for i, s := range specs {
		t, err := echobench.ParseTarget(s)
		if err != nil {
			return err
		}
		targets[i] = t
	}
	cfg := echobench.ProbeConfig{Retries: retries}
	if retries == 0 {
		cfg.Retries = -1
	}
	results := echobench.Probe(ctx, targets, cfg)
	for _, res := range results {
		r.lines = append(r.lines, res.Line())
	}
	if err := echobench.Contradictions(results); err != nil {
		r.exit, r.last = 1, "echobench: "+err.Error()
	}
	return nil
}

// runBinary runs echobench probe, in the namespace if asked, and reads
// its verdicts.
func (r *probeRoom) runBinary(ctx context.Context, bin string, specs []string, retries int, inNetns bool) error {
	if err := needBinaries(ctx); err != nil {
		return err
	}
	args := append([]string{"probe", "-retries", fmt.Sprint(retries), "-json", "-"}, specs...)
	var n *netns
	if inNetns {
		n = r.netns
	}
	cmdCtx, cancel := context.WithTimeout(ctx, 2*patience)
	defer cancel()
	cmd := echobenchCommand(cmdCtx, bin, n, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	status, err := exitStatus(cmd.Run())
	if err != nil {
		return fmt.Errorf("echobench probe: %w", err)
	}
	r.exit = status
	out := strings.TrimSpace(stderr.String())
	r.last = out[strings.LastIndexByte(out, '\n')+1:]
	if err := json.Unmarshal(stdout.Bytes(), &r.lines); err != nil {
		return fmt.Errorf("echobench probe's verdicts: %w; it printed: %s%s", err, stdout.String(), stderr.String())
	}
	return nil
}

// matrixSays is the step `^the matrix says:$`.
func matrixSays(ctx context.Context, table *godog.Table) error {
	r := probeOf(ctx)
	if len(table.Rows) < 2 {
		return errors.New("the table needs a header and a row a target")
	}
	if len(r.lines) != len(table.Rows)-1 {
		return fmt.Errorf("the probe gave %d verdicts, the table has %d: %+v", len(r.lines), len(table.Rows)-1, r.lines)
	}
	var wrong []string
	for i, row := range table.Rows[1:] {
		spec, verdict := row.Cells[0].Value, row.Cells[1].Value
		for name, addr := range r.places {
			spec = strings.ReplaceAll(spec, name, addr)
		}
		got := r.lines[i]
		if want, _, _ := strings.Cut(spec, "="); got.Target != want || got.Verdict != verdict {
			wrong = append(wrong, fmt.Sprintf("%s: %s (%s), not %s", got.Target, got.Verdict, got.Detail, verdict))
		}
	}
	if len(wrong) > 0 {
		return fmt.Errorf("the matrix differs: %s", strings.Join(wrong, "; "))
	}
	return nil
}

// probeExits is the step `^the probe exits with status (\d+)$`.
func probeExits(ctx context.Context, status int) error {
	r := probeOf(ctx)
	if r.exit != status {
		return fmt.Errorf("the probe exited with status %d: %s", r.exit, r.last)
	}
	return nil
}

// probeExitsSaying is the step `^the probe exits with status (\d+), its last line:$`.
func probeExitsSaying(ctx context.Context, status int, doc *godog.DocString) error {
	r := probeOf(ctx)
	want := strings.TrimSpace(doc.Content)
	for name, addr := range r.places {
		want = strings.ReplaceAll(want, name, addr)
	}
	if r.exit != status || r.last != want {
		return fmt.Errorf("the probe exited with status %d, its last line %q; due: status %d and %q", r.exit, r.last, status, want)
	}
	return nil
}

// namespaceWithFirewall is the step `^a network namespace where TCP and UDP echo servers listen on 127\.0\.0\.1 ports (\d+), (\d+) and (\d+), and iptables drops port (\d+) and rejects port (\d+)$`.
func namespaceWithFirewall(ctx context.Context, p1, p2, p3, drop, reject int) error {
	n, err := makeNetns(ctx, "")
	if err != nil {
		return err
	}
	probeOf(ctx).netns = n
	for _, port := range []int{p1, p2, p3} {
		for _, binary := range []string{"tcpserver", "udpserver"} {
			if _, err := startNamed(ctx, n, binary, fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
				return err
			}
		}
	}
	d, rj := fmt.Sprint(drop), fmt.Sprint(reject)
	for _, rule := range [][]string{
		{"-A", "INPUT", "-p", "tcp", "--dport", d, "-j", "DROP"},
		{"-A", "INPUT", "-p", "udp", "--dport", d, "-j", "DROP"},
		{"-A", "INPUT", "-p", "tcp", "--dport", rj, "-j", "REJECT", "--reject-with", "tcp-reset"},
		{"-A", "INPUT", "-p", "udp", "--dport", rj, "-j", "REJECT", "--reject-with", "icmp-port-unreachable"},
	} {
		if err := n.run("iptables", rule...); err != nil {
			return err
		}
	}
	return nil
}

// hostUnreachable is the step `^iptables there also rejects port (\d+) with ICMP host unreachable$`.
func hostUnreachable(ctx context.Context, port int) error {
	n := probeOf(ctx).netns
	if n == nil {
		return errors.New("no network namespace in this scenario")
	}
	for _, proto := range []string{"tcp", "udp"} {
		if err := n.run("iptables", "-A", "INPUT", "-p", proto, "--dport", fmt.Sprint(port), "-j", "REJECT", "--reject-with", "icmp-host-unreachable"); err != nil {
			return err
		}
	}
	return nil
}

// startNamed starts one of our servers in the namespace, listening on addr.
func startNamed(ctx context.Context, n *netns, binary, addr string) (*serverProcess, error) {
	w := worldFrom(ctx)
	p, err := startProcess(w.target.Bin, binary, []string{"-listen", addr}, processOptions{events: "none", netns: n.name})
	if err != nil {
		return nil, err
	}
	w.scratch.closers = append(w.scratch.closers, p.kill)
	return p, nil
}

func registerProbeSteps(sc *godog.ScenarioContext) {
	sc.Step(`^a UDP socket that reads every datagram and never answers$`, udpSocketThatNeverAnswers)
	sc.Step(`^a TCP service that answers in capitals: socat with EXEC:'tr a-z A-Z'$`, serviceInCapitals)
	sc.Step(`^a path to the UDP server that loses the first datagram each way$`, lossyPathToUDPServer)
	sc.Step(`^iptables there also rejects port (\d+) with ICMP host unreachable$`, hostUnreachable)
	sc.Step(`^echobench probes(?: with (-retries \d+))?( in the namespace)?:$`, echobenchProbes)
	sc.Step(`^the matrix says:$`, matrixSays)
	sc.Step(`^the probe exits with status (\d+)$`, probeExits)
	sc.Step(`^the probe exits with status (\d+), its last line:$`, probeExitsSaying)
	sc.Step(`^a network namespace where TCP and UDP echo servers listen on 127\.0\.0\.1 ports (\d+), (\d+) and (\d+), and iptables drops port (\d+) and rejects port (\d+)$`, namespaceWithFirewall)
}
