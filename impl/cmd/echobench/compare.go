package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/echospec/echo/impl/echobench"
	"github.com/echospec/echo/internal/lines"
	"github.com/echospec/echo/internal/procmem"
)

// serveBaseline serves the stdlib baseline for proto, saying "listening on
// HOST:PORT" when ready, until ctx ends. The TLS baseline serves cert.
func serveBaseline(ctx context.Context, proto, listen string, cert *tls.Config, stderr io.Writer) error {
	var serve func() error
	var closer io.Closer
	switch proto {
	case "tls":
		if cert == nil || len(cert.Certificates) == 0 {
			return fmt.Errorf("the TLS baseline needs -tls-cert and -tls-key")
		}
		l, err := tls.Listen("tcp", listen, &tls.Config{Certificates: cert.Certificates})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "listening on %s\n", l.Addr())
		serve, closer = func() error { return echobench.BaselineTCP(l) }, l
	case "tcp":
		roomForConnections(20000)
		l, err := net.Listen("tcp", listen)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "listening on %s\n", l.Addr())
		serve, closer = func() error { return echobench.BaselineTCP(l) }, l
	case "udp":
		pc, err := net.ListenPacket("udp", listen)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "listening on %s\n", pc.LocalAddr())
		serve, closer = func() error { return echobench.BaselineUDP(pc) }, pc
	default:
		return fmt.Errorf("no baseline for %q: tcp, tls or udp", proto)
	}
	stop := context.AfterFunc(ctx, func() { closer.Close() })
	defer stop()
	if err := serve(); ctx.Err() == nil {
		return err
	}
	return nil
}

// benchCase is one row of the table.
type benchCase struct {
	name     string
	ours     []string // our server binary and its flags
	baseline string   // the baseline's protocol
	// against, if set, is our own server with other flags to compare
	// with instead of the stdlib baseline: what a setting costs.
	against []string
	cfg     echobench.Config
	unit    string  // "rt/s" or "MB/s"
	target  float64 // the least ratio ours/baseline that passes; 0: none
	// maxPeak, if set, is the most resident memory ours may reach.
	maxPeak int
	// tls serves both sides with a certificate made for the run, and
	// makes the clients trust it.
	tls bool
	// progress, if set, is told of each round as it starts (a terminal's
	// status line).
	progress func(round, of int)
	// latencies, if set, gathers every round's latencies, ours and the
	// baseline's, for -plot.
	latencies *[sides]*hdrhistogram.Histogram
	// peer, if set, is a peer's server (gnetecho and its flags, from
	// make bench's nested module) measured in the same rounds: its rate,
	// information.
	peer []string
	// dial, if set, is the host clients send to instead of the one our
	// server says it listens on: for a server on all addresses.
	dial string
	// parity marks a target at parity with the baseline: single rounds
	// swing by 20-30% on a shared virtual machine (0.67-1.18 in one run of
	// 21), so such a case runs parityRounds rounds at least, for a median
	// that tells.
	parity bool
}

// parityRounds is the fewest rounds a case whose target is parity runs.
const parityRounds = 31

// framings are the ways our TCP server frames, as the cases run them.
var framings = []struct {
	name  string
	flags []string
	line  bool
	// peer is gnet's echo that moves the same bytes: for fixed, the
	// stream's (on the wire the two are alike).
	peer []string
}{
	{"stream", []string{"-framing", "stream"}, false, []string{"gnetecho", "-framing", "stream"}},
	{"line", []string{"-framing", "line"}, true, []string{"gnetecho", "-framing", "line"}},
	{"fixed -size 4", []string{"-framing", "fixed", "-size", "4"}, false, []string{"gnetecho", "-framing", "stream"}},
}

// admin is what our servers run with in every case: the admin endpoint
// on, its metrics made from every event, so that the table's targets hold
// for a server that is watched. One case measures what it costs.
var admin = []string{"-admin", "127.0.0.1:0"}

// ourServer is one of our binaries and its flags, with the admin endpoint.
func ourServer(name string, flags ...string) []string {
	return append(append([]string{name}, admin...), flags...)
}

func cases() []benchCase {
	var cs []benchCase
	for _, f := range framings {
		for _, n := range []int{1, 50, 500} {
			c := benchCase{
				name:     fmt.Sprintf("TCP ping-pong 128 B, %s, %s", f.name, plural(n, "conn")),
				ours:     ourServer("tcpserver", append([]string{"-max-conns", "0"}, f.flags...)...),
				baseline: "tcp",
				cfg:      echobench.Config{Proto: echobench.TCP, Mode: echobench.PingPong, Conns: n, Size: 128, Line: f.line},
				unit:     "rt/s",
				peer:     f.peer,
			}
			// Information, no target: on two shared cores a ping-pong
			// rate is decided by how client and server share them. The
			// targets are on the CPU a round trip costs (cpuTable).
			cs = append(cs, c)
		}
	}
	for _, f := range framings {
		cs = append(cs, benchCase{
			name:     "TCP stream 256 MiB, " + f.name,
			ours:     ourServer("tcpserver", f.flags...),
			baseline: "tcp",
			cfg:      echobench.Config{Proto: echobench.TCP, Mode: echobench.Stream, Conns: 1, Size: 256 << 20, Line: f.line, Duration: time.Minute},
			unit:     "MB/s",
			target:   0.7,
		})
	}
	// -size is a bound, not a buffer: the largest setting costs what the
	// smallest does, in time and in memory.
	cs = append(cs, benchCase{
		name:     "TCP ping-pong 128 B, fixed -size 16 MiB against -size 4, 50 conns",
		ours:     ourServer("tcpserver", "-framing", "fixed", "-size", "16777216"),
		against:  ourServer("tcpserver", "-framing", "fixed", "-size", "4"),
		baseline: "tcp",
		cfg:      echobench.Config{Proto: echobench.TCP, Mode: echobench.PingPong, Conns: 50, Size: 128},
		unit:     "rt/s",
		target:   0.8,
		maxPeak:  64 << 20,
	})
	for _, n := range []int{1, 8} {
		c := benchCase{
			name:     fmt.Sprintf("UDP ping-pong 64 B, %s", plural(n, "socket")),
			ours:     ourServer("udpserver"),
			baseline: "udp",
			cfg:      echobench.Config{Proto: echobench.UDP, Mode: echobench.PingPong, Conns: n, Size: 64, Timeout: time.Second},
			unit:     "rt/s",
		}
		cs = append(cs, c) // information: the target is the UDP row of cpuTable
	}
	// What the reflection guard's checks cost a datagram (its rules and
	// its loop watch), and what answering from the address each datagram
	// came to costs on a server listening on all addresses (a control
	// message read and sent with each): information, no target.
	for _, n := range []int{1, 8} {
		udp := echobench.Config{Proto: echobench.UDP, Mode: echobench.PingPong, Conns: n, Size: 64, Timeout: time.Second}
		cs = append(cs, benchCase{
			name:     fmt.Sprintf("UDP ping-pong 64 B, %s, guard on against -guard=false", plural(n, "socket")),
			ours:     ourServer("udpserver"),
			against:  ourServer("udpserver", "-guard=false"),
			baseline: "udp",
			cfg:      udp,
			unit:     "rt/s",
		}, benchCase{
			name:     fmt.Sprintf("UDP ping-pong 64 B, %s, on 0.0.0.0 sent to 127.0.0.2 against on 127.0.0.1", plural(n, "socket")),
			ours:     ourServer("udpserver", "-listen", "0.0.0.0:0"),
			dial:     "127.0.0.2",
			against:  ourServer("udpserver"),
			baseline: "udp",
			cfg:      udp,
			unit:     "rt/s",
		})
	}
	// What -identity costs: a TCP connection's first bytes are looked at
	// for the probe; every UDP datagram of a probe's size, 128 bytes as
	// these, is compared with it. Information, no target.
	cs = append(cs, benchCase{
		name:     "TCP ping-pong 128 B, stream, 50 conns, -identity on against off",
		ours:     ourServer("tcpserver", "-max-conns", "0", "-identity", "echo-a"),
		against:  ourServer("tcpserver", "-max-conns", "0"),
		baseline: "tcp",
		cfg:      echobench.Config{Proto: echobench.TCP, Mode: echobench.PingPong, Conns: 50, Size: 128},
		unit:     "rt/s",
	}, benchCase{
		name:     "UDP ping-pong 128 B, 8 sockets, -identity on against off",
		ours:     ourServer("udpserver", "-identity", "echo-a"),
		against:  ourServer("udpserver"),
		baseline: "udp",
		cfg:      echobench.Config{Proto: echobench.UDP, Mode: echobench.PingPong, Conns: 8, Size: 128, Timeout: time.Second},
		unit:     "rt/s",
	})
	// What the admin endpoint costs: its metrics count every message.
	for _, f := range framings[:2] {
		cs = append(cs, benchCase{
			name:     "TCP ping-pong 128 B, " + f.name + ", 50 conns, -admin on against off",
			ours:     ourServer("tcpserver", append([]string{"-max-conns", "0"}, f.flags...)...),
			against:  append([]string{"tcpserver", "-max-conns", "0"}, f.flags...),
			baseline: "tcp",
			cfg:      echobench.Config{Proto: echobench.TCP, Mode: echobench.PingPong, Conns: 50, Size: 128, Line: f.line},
			unit:     "rt/s",
			target:   0.95,
			parity:   true,
		})
	}
	// What TLS costs against the stdlib's TLS echo (tls.Listen and
	// io.Copy): our server takes its portable path over TLS, reading into
	// a buffer it keeps while the connection waits.
	for _, f := range framings[:2] {
		cs = append(cs, benchCase{
			name:     "TLS ping-pong 128 B, " + f.name + ", 50 conns",
			ours:     ourServer("tcpserver", append([]string{"-max-conns", "0"}, f.flags...)...),
			baseline: "tls",
			cfg:      echobench.Config{Proto: echobench.TCP, Mode: echobench.PingPong, Conns: 50, Size: 128, Line: f.line},
			unit:     "rt/s",
			target:   0.8,
			tls:      true,
		})
	}
	return cs
}

// compareTable runs every case against our server and the baseline,
// alternating, rounds times each, and prints the medians and their ratio.
func compareTable(ctx context.Context, bin string, rounds int, d time.Duration, match *regexp.Regexp, plotFile string, stdout, stderr io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	fmt.Fprintf(stdout, "echobench -compare on %s: %s/%s, %d CPUs, %s; per case %d rounds of %v per side (%d where the target is parity), back to back, the first side alternating; ratio: median of the rounds' ratios (lowest–highest)\n\n", host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), rounds, d, max(rounds, parityRounds))
	fmt.Fprintf(stdout, "| case | ours (median) | baseline (median) | ratio | gnet (median) | ours/gnet | target |\n|---|---:|---:|---:|---:|---:|---|\n")
	var missed []string
	tty := terminal(stderr)
	for _, c := range cases() {
		if !match.MatchString(c.name) {
			continue
		}
		miss, err := compareCase(ctx, c, bin, self, rounds, d, plotFile, tty, stdout)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		missed = append(missed, miss...)
	}
	// The rows that measure one thing rather than ours against a baseline.
	for _, row := range []struct {
		name string
		run  func() (bool, error)
	}{
		{trickleCase, func() (bool, error) { return trickleRow(ctx, bin, rounds, stdout) }},
		{idleCase, func() (bool, error) { return idleRow(ctx, bin, self, stdout) }},
		{watchCase, func() (bool, error) { return watchCostRow(ctx, bin, self, rounds, stdout) }},
	} {
		if !match.MatchString(row.name) {
			continue
		}
		if tty != nil {
			fmt.Fprintf(tty, "\r\033[K%s", row.name)
		}
		ok, err := row.run()
		if err != nil {
			return fmt.Errorf("%s: %w", row.name, err)
		}
		if !ok {
			missed = append(missed, row.name)
		}
	}
	if match.MatchString(cpuCase) {
		if tty != nil {
			fmt.Fprintf(tty, "\r\033[K%s", cpuCase)
		}
		miss, err := cpuTable(ctx, bin, self, stdout)
		if err != nil {
			return fmt.Errorf("%s: %w", cpuCase, err)
		}
		missed = append(missed, miss...)
	}
	if tty != nil {
		fmt.Fprintf(tty, "\r\033[K")
	}
	if len(missed) > 0 {
		return fmt.Errorf("targets missed: %s", strings.Join(missed, "; "))
	}
	fmt.Fprintf(stdout, "\nevery target holds\n")
	return nil
}

// compareCase runs caseRow with what the terminal and -plot want of it:
// a status line, and a chart of ours and the baseline.
func compareCase(ctx context.Context, c benchCase, bin, self string, rounds int, d time.Duration, plotFile string, tty *os.File, stdout io.Writer) ([]string, error) {
	if tty != nil {
		c.progress = func(round, of int) {
			fmt.Fprintf(tty, "\r\033[K%s: round %d of %d", c.name, round, of)
		}
	}
	if plotFile != "" && c.cfg.Mode == echobench.PingPong {
		c.latencies = &[sides]*hdrhistogram.Histogram{echobench.NewHistogram(), echobench.NewHistogram(), echobench.NewHistogram()}
	}
	missed, err := caseRow(ctx, c, bin, self, rounds, d, stdout)
	if err != nil || c.latencies == nil {
		return missed, err
	}
	base := "baseline (" + c.baseline + ")"
	if c.against != nil {
		base = strings.Join(c.against, " ")
	}
	all := []series{{strings.Join(c.ours, " "), c.latencies[ours]}, {base, c.latencies[baseline]}}
	if c.latencies[peer].TotalCount() > 0 {
		all = append(all, series{strings.Join(c.peer, " "), c.latencies[peer]})
	}
	return missed, plotLatency(caseFile(plotFile, c.name), c.name, all...)
}

// The sides of a case: our server, the baseline (or our server with
// other flags), and a peer's, if the case has one and it was built.
const (
	ours = iota
	baseline
	peer
	sides
)

// caseRow measures one case, prints its row and returns the targets it
// missed.
func caseRow(ctx context.Context, c benchCase, bin, self string, rounds int, d time.Duration, stdout io.Writer) ([]string, error) {
	n := rounds
	if c.parity {
		n = max(rounds, parityRounds)
	}
	m, err := measure(ctx, c, bin, self, n, d)
	if err != nil {
		return nil, err
	}
	var missed []string
	verdicts := []string{}
	judge := func(ratio, target float64, what string) {
		if target <= 0 {
			return
		}
		mark := "✓"
		if ratio < target {
			mark = "✗"
			missed = append(missed, c.name+what)
		}
		verdicts = append(verdicts, fmt.Sprintf("≥ %.2f%s %s", target, what, mark))
	}
	ratio := median(slices.Clone(m.ratios[baseline]))
	judge(ratio, c.target, "")
	peerCols := "— | — "
	if len(c.peer) > 0 && m.noPeer != "" {
		peerCols = "— (" + m.noPeer + ") | — "
	}
	if len(m.ratios[peer]) > 0 {
		peerRatio := median(slices.Clone(m.ratios[peer]))
		peerCols = fmt.Sprintf("%s | %.2f (%.2f–%.2f) ", amount(m.medians[peer], c.unit), peerRatio, slices.Min(m.ratios[peer]), slices.Max(m.ratios[peer]))
	}
	if c.maxPeak > 0 {
		mark := "✓"
		if m.peak > c.maxPeak {
			mark = "✗"
			missed = append(missed, c.name+" (memory)")
		}
		verdicts = append(verdicts, fmt.Sprintf("peak RSS %d MiB, < %d MiB %s", m.peak>>20, c.maxPeak>>20, mark))
	}
	fmt.Fprintf(stdout, "| %s | %s | %s | %.2f (%.2f–%.2f) | %s| %s |\n", c.name, amount(m.medians[ours], c.unit), amount(m.medians[baseline], c.unit), ratio, slices.Min(m.ratios[baseline]), slices.Max(m.ratios[baseline]), peerCols, strings.Join(verdicts, "; "))
	return missed, nil
}

// idleCase measures what an idle connection costs each side.
const idleCase = "idle memory, 10,000 TCP connections"

// idleTarget is the most an idle connection may cost our server.
const idleTarget = 1 << 10

// idleRow measures idleCase, prints its row and says whether it met its
// target.
func idleRow(ctx context.Context, bin, self string, stdout io.Writer) (bool, error) {
	// The baseline's io.Copy splices through a pipe: three descriptors
	// per connection, so where the limit on open files is lower than
	// 30,000 it is measured with fewer connections, and says so.
	limit := roomForConnections(10000)
	baseConns := 10000
	if limit != 0 && limit < 3*10000+100 {
		baseConns = int(limit-100) / 3 / 1000 * 1000
	}
	servers := []idleServer{
		{append(append([]string{filepath.Join(bin, "tcpserver")}, admin...), "-listen", "127.0.0.1:0", "-max-conns", "0"), 10000},
		{[]string{self, "-serve-baseline", "tcp"}, baseConns},
	}
	gnet := filepath.Join(bin, "gnetecho")
	_, noPeer := os.Stat(gnet)
	if noPeer == nil {
		servers = append(servers, idleServer{[]string{gnet}, 10000})
	}
	per, err := idleMemory(ctx, servers)
	if err != nil {
		return false, err
	}
	baseNote := ""
	if baseConns != 10000 {
		baseNote = fmt.Sprintf(" (at %d conns: open-file limit %d)", baseConns, limit)
	}
	peerCols := "— | — "
	if len(per) > peer {
		peerCols = fmt.Sprintf("%.1f KiB/conn | %.2f ", per[peer]/1024, per[ours]/per[peer])
	}
	ok := per[ours] <= idleTarget
	verdict := fmt.Sprintf("≤ %d KiB %s", idleTarget>>10, map[bool]string{true: "✓", false: "✗"}[ok])
	fmt.Fprintf(stdout, "| %s | %.1f KiB/conn | %.1f KiB/conn%s | %.2f | %s| %s |\n", idleCase, per[ours]/1024, per[baseline]/1024, baseNote, per[ours]/per[baseline], peerCols, verdict)
	return ok, nil
}

func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func amount(v float64, unit string) string {
	if unit == "MB/s" {
		return fmt.Sprintf("%.0f MB/s", v)
	}
	return fmt.Sprintf("%.0f rt/s", v)
}

// measurement is what measure found: each side's median, the per-round
// ratios of ours to each other side, and our server's peak memory.
type measurement struct {
	medians [sides]float64
	ratios  [sides][]float64
	peak    int
	noPeer  string // why the peer was not measured, if it was not
}

// measure runs c against our server, the baseline and the peer, in
// rounds, each round one run of each side back to back, the side that
// goes first rotating; after a warm-up of each. Adjacent runs share
// whatever else the machine is doing, so their ratio is steadier than
// either figure. With c.maxPeak set it also finds our server's peak
// resident memory.
func measure(ctx context.Context, c benchCase, bin, self string, rounds int, d time.Duration) (measurement, error) {
	var m measurement
	var certFlags []string
	if c.tls {
		dir, err := os.MkdirTemp("", "echobench-tls-")
		if err != nil {
			return m, err
		}
		defer os.RemoveAll(dir)
		cert, key, pool, err := selfSigned(dir)
		if err != nil {
			return m, err
		}
		certFlags = []string{"-tls-cert", cert, "-tls-key", key}
		c.cfg.TLS = &tls.Config{RootCAs: pool, ServerName: "localhost"}
	}
	var commands [][]string
	commands, m.noPeer = c.commands(bin, self, certFlags)
	var addrs []string
	var servers []*server
	for _, cmd := range commands {
		srv, err := startServer(cmd[0], cmd[1:]...)
		if err != nil {
			return m, err
		}
		defer srv.stop()
		addrs, servers = append(addrs, srv.addr), append(servers, srv)
	}
	if c.dial != "" {
		_, port, err := net.SplitHostPort(addrs[ours])
		if err != nil {
			return m, fmt.Errorf("our server's address %q: %w", addrs[ours], err)
		}
		addrs[ours] = net.JoinHostPort(c.dial, port)
	}
	runs, err := alternate(ctx, c, addrs, rounds, d)
	if err != nil {
		return m, err
	}
	for side := range runs {
		m.medians[side] = median(slices.Clone(runs[side]))
		if side == ours {
			continue
		}
		for round := range runs[side] {
			m.ratios[side] = append(m.ratios[side], runs[ours][round]/runs[side][round])
		}
	}
	if c.maxPeak > 0 {
		m.peak, err = procmem.Read(servers[ours].cmd.Process.Pid, "VmHWM")
	}
	return m, err
}

// commands are the command lines of the case's sides: ours, the baseline
// (or ours with other flags), and the peer's, if built; noPeer says why
// not where it is not.
func (c benchCase) commands(bin, self string, certFlags []string) (commands [][]string, noPeer string) {
	commands = [][]string{
		append(append([]string{filepath.Join(bin, c.ours[0]), "-listen", "127.0.0.1:0"}, c.ours[1:]...), certFlags...),
		append([]string{self, "-serve-baseline", c.baseline}, certFlags...),
	}
	if c.against != nil {
		commands[baseline] = append([]string{filepath.Join(bin, c.against[0]), "-listen", "127.0.0.1:0"}, c.against[1:]...)
	}
	if c.peer != nil {
		path := filepath.Join(bin, c.peer[0])
		if _, err := os.Stat(path); err != nil {
			return commands, c.peer[0] + " not built"
		}
		commands = append(commands, append([]string{path}, c.peer[1:]...))
	}
	return commands, ""
}

// alternate runs c against each of addrs in rounds, after a warm-up, and
// returns each side's rate per round.
func alternate(ctx context.Context, c benchCase, addrs []string, rounds int, d time.Duration) ([][]float64, error) {
	for _, addr := range addrs {
		if _, err := runCase(ctx, c, addr, d/4, nil); err != nil {
			return nil, err
		}
	}
	// Every round's latencies, each side's, for -plot.
	var keep [sides]*hdrhistogram.Histogram
	if c.latencies != nil {
		keep = *c.latencies
	}
	runs := make([][]float64, len(addrs))
	for round := range rounds {
		if c.progress != nil {
			c.progress(round+1, rounds)
		}
		// The side that goes first rotates.
		for i := range addrs {
			side := (round + i) % len(addrs)
			got, err := runCase(ctx, c, addrs[side], d, keep[side])
			if err != nil {
				return nil, err
			}
			runs[side] = append(runs[side], got)
		}
	}
	return runs, nil
}

// runCase runs c once against addr for d (a ping-pong; a stream takes what
// it takes) and returns its rate in c's unit, adding its latencies to
// keep if set.
func runCase(ctx context.Context, c benchCase, addr string, d time.Duration, keep *hdrhistogram.Histogram) (float64, error) {
	cfg := c.cfg
	cfg.Addr = addr
	if cfg.Mode == echobench.PingPong {
		cfg.Duration = d
	}
	res, err := echobench.Run(ctx, cfg, nil)
	if err != nil {
		return 0, err
	}
	if res.Errors > 0 {
		return 0, fmt.Errorf("against %s: %d errors, the first: %w", addr, res.Errors, res.FirstError)
	}
	if keep != nil {
		keep.Merge(res.Latency)
	}
	if c.unit == "MB/s" {
		return res.MBPerSec(), nil
	}
	return res.RoundTripsPerSec(), nil
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

// idleServer is a server idleMemory measures: its command, and how many
// connections to open to it.
type idleServer struct {
	command []string
	conns   int
}

// idleMemory opens its connections to each server, one at a time, each
// echoing one line and then idling, and returns the growth of each
// server's resident memory per connection, in bytes.
func idleMemory(ctx context.Context, servers []idleServer) ([]float64, error) {
	per := make([]float64, len(servers))
	for i, srv := range servers {
		s, err := startServer(srv.command[0], srv.command[1:]...)
		if err != nil {
			return nil, err
		}
		before, err := procmem.Read(s.cmd.Process.Pid, "VmRSS")
		if err != nil {
			s.stop()
			return nil, err
		}
		res, conns, err := echobench.Hold(ctx, echobench.Config{Addr: s.addr, Conns: srv.conns, Line: true, Size: 2})
		if err == nil && res.Errors > 0 {
			err = fmt.Errorf("%d of %d connections failed, the first: %w", res.Errors, srv.conns, res.FirstError)
		}
		if err != nil {
			s.stop()
			return nil, fmt.Errorf("%s: %w", filepath.Base(srv.command[0]), err)
		}
		after, err := procmem.Read(s.cmd.Process.Pid, "VmRSS")
		conns.Close()
		s.stop()
		if err != nil {
			return nil, err
		}
		per[i] = float64(after-before) / float64(srv.conns)
	}
	return per, nil
}

func cpuModel() string {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(info)) {
		if rest, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
		}
	}
	return "unknown CPU"
}

// server is a server process of a benchmark.
type server struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

// startServer starts a server and waits (10 s at most) for its "listening
// on HOST:PORT" line.
func startServer(path string, args ...string) (*server, error) {
	cmd := exec.Command(path, args...)
	out := lines.NewOutput()
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		cmd.Wait()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := lines.Listening(ctx, out, s.done)
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.addr = addr
	return s, nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}
