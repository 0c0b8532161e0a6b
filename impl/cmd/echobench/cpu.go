package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// cpuCase is the table of CPU per round trip: at a fixed offered rate
// every server does the same work, so what its process spends a round
// trip is comparable between servers, where their rates on two shared
// cores are not (they depend on how client and server share the cores).
const cpuCase = "CPU per round trip"

// cpuLoad is one row of the table: connections and the rate offered over
// them in all.
type cpuLoad struct {
	conns int
	rate  int
	udp   bool // datagrams, offered by a watch (echobench's UDP open loop), over conns sockets
}

var cpuLoads = []cpuLoad{{conns: 1, rate: 5000}, {conns: 50, rate: 20000}, {conns: 500, rate: 40000}, {conns: 5000, rate: 40000}}

// udpLoad is the UDP row: datagrams at a fixed rate over 8 sockets.
var udpLoad = cpuLoad{conns: 8, rate: 10000, udp: true}

// args are echobench's arguments that offer the load to addr.
func (l cpuLoad) args(addr string) []string {
	args := []string{"-addr", addr, "-c", strconv.Itoa(l.conns), "-rate", strconv.Itoa(l.rate), "-size", "128", "-json", "-", "-q"}
	if l.udp {
		return append(args, "-mode", "watch", "-proto", "udp")
	}
	return append(args, "-line")
}

// cpuServer is one column: a server, as a command line.
type cpuServer struct {
	name string
	cmd  []string // nil: not built here
	why  string   // why not, when cmd is nil
}

// cpuRun is how long each measurement offers its load, and how many
// rounds each cell takes the median of.
const (
	cpuRun    = 3 * time.Second
	cpuRounds = 5
)

// cpuServers are the table's columns: ours in each framing, the stdlib
// baseline, gnet and the C epoll floor, where built.
func cpuServers(bin, self string) []cpuServer {
	peer := func(name, binary string, args ...string) cpuServer {
		path := filepath.Join(bin, binary)
		if _, err := os.Stat(path); err != nil {
			return cpuServer{name: name, why: binary + " not built (make peers)"}
		}
		return cpuServer{name: name, cmd: append([]string{path}, args...)}
	}
	ours := func(framing string, flags ...string) cpuServer {
		return cpuServer{name: "ours " + framing, cmd: append([]string{filepath.Join(bin, "tcpserver"), "-listen", "127.0.0.1:0", "-max-conns", "0", "-framing", framing}, flags...)}
	}
	return []cpuServer{
		ours("stream"), ours("line"), ours("fixed", "-size", "128"),
		{name: "stdlib io.Copy", cmd: []string{self, "-serve-baseline", "tcp"}},
		peer("gnet", "gnetecho", "-framing", "stream"),
		peer("C epoll", "epollecho"),
	}
}

// cpuTarget is a ratio a column must stay within at a load.
type cpuTarget struct {
	column, floor string
	most          float64
}

// cpuTargets are the table's targets, at 50 and 500 connections.
var cpuTargets = []cpuTarget{
	{"ours stream", "C epoll", 1.10},
	{"ours line", "C epoll", 1.15},
	{"ours stream", "gnet", 0.85},
}

// cpuTable measures and prints the CPU per round trip of every server at
// every load, and of echobench itself, and says which targets it missed.
func cpuTable(ctx context.Context, bin, self string, out io.Writer) ([]string, error) {
	servers := cpuServers(bin, self)
	fmt.Fprintf(out, "\n%s (µs of the server process's CPU, user and system, a round trip of 128 B, open loop at a fixed rate for %v, median of %d rounds taken in turn with every server's; ratios are medians of each round's; the client's, echobench's, beside):\n\n", cpuCase, cpuRun, cpuRounds)
	header := "| load |"
	for _, s := range servers {
		header += " " + s.name + " |"
	}
	fmt.Fprintf(out, "%s echobench | ratios |\n|---|%s---:|---|\n", header, strings.Repeat("---:|", len(servers)))
	var missed []string
	for _, load := range cpuLoads {
		m, err := measureRow(ctx, servers, self, load)
		if err != nil {
			return nil, err
		}
		row := fmt.Sprintf("| %d/s over %s |", load.rate, plural(load.conns, "conn"))
		for _, s := range servers {
			if s.cmd == nil {
				row += " — (" + s.why + ") |"
				continue
			}
			row += fmt.Sprintf(" %.1f µs |", m.server(s.name))
		}
		row += fmt.Sprintf(" %.1f µs |", m.client())
		var ratios []string
		for _, t := range cpuTargets {
			ratio, ok := m.ratio(t.column, t.floor)
			if !ok {
				continue
			}
			mark := "✓"
			if load.conns == 50 || load.conns == 500 {
				if ratio > t.most {
					mark = "✗"
					missed = append(missed, fmt.Sprintf("%s/%s at %d conns %.2f > %.2f", t.column, t.floor, load.conns, ratio, t.most))
				}
			} else {
				mark = "(no target)"
			}
			ratios = append(ratios, fmt.Sprintf("%s/%s %.2f (≤ %.2f %s)", t.column, t.floor, ratio, t.most, mark))
		}
		fmt.Fprintf(out, "%s %s |\n", row, strings.Join(ratios, "; "))
	}
	miss, err := udpCPURow(ctx, bin, self, out)
	return append(missed, miss...), err
}

// udpTarget is the most ours may spend a datagram, against the C batch
// echo's.
const udpTarget = 1.10

// udpCPURow measures and prints the UDP row: CPU per datagram of ours,
// the stdlib loop and the C recvmmsg/sendmmsg echo.
func udpCPURow(ctx context.Context, bin, self string, out io.Writer) ([]string, error) {
	servers := []cpuServer{
		{name: "ours", cmd: []string{filepath.Join(bin, "udpserver"), "-listen", "127.0.0.1:0"}},
		{name: "stdlib ReadFrom/WriteTo", cmd: []string{self, "-serve-baseline", "udp"}},
		{name: "C recvmmsg/sendmmsg", cmd: []string{filepath.Join(bin, "mmsgecho")}},
	}
	if _, err := os.Stat(servers[2].cmd[0]); err != nil {
		servers[2] = cpuServer{name: servers[2].name, why: "mmsgecho not built (make peers)"}
	}
	fmt.Fprintf(out, "\nCPU per datagram, UDP (as above; 128 B at %d/s over %d sockets, offered by a watch):\n\n| load | ours | stdlib ReadFrom/WriteTo | C recvmmsg/sendmmsg | echobench | ratio |\n|---|---:|---:|---:|---:|---|\n", udpLoad.rate, udpLoad.conns)
	m, err := measureRow(ctx, servers, self, udpLoad)
	if err != nil {
		return nil, err
	}
	row := fmt.Sprintf("| %d/s over %d sockets |", udpLoad.rate, udpLoad.conns)
	for _, s := range servers {
		if s.cmd == nil {
			row += " — (" + s.why + ") |"
			continue
		}
		row += fmt.Sprintf(" %.1f µs |", m.server(s.name))
	}
	row += fmt.Sprintf(" %.1f µs |", m.client())
	ratio, ok := m.ratio("ours", "C recvmmsg/sendmmsg")
	if !ok {
		fmt.Fprintf(out, "%s — |\n", row)
		return nil, nil
	}
	if ratio > udpTarget {
		fmt.Fprintf(out, "%s ours/C %.2f (≤ %.2f ✗) |\n", row, ratio, udpTarget)
		return []string{fmt.Sprintf("UDP ours/C %.2f > %.2f", ratio, udpTarget)}, nil
	}
	fmt.Fprintf(out, "%s ours/C %.2f (≤ %.2f ✓) |\n", row, ratio, udpTarget)
	return nil, nil
}

// rowCPU is what measureRow measured: each server's CPU a round trip, and
// the client's, round by round.
type rowCPU struct {
	servers map[string][]float64
	clients []float64
}

func (m rowCPU) server(name string) float64 { return median(slices.Clone(m.servers[name])) }
func (m rowCPU) client() float64            { return median(slices.Clone(m.clients)) }

// ratio is the median of a's CPU over b's, round by round: the two were
// measured one after the other, so what the machine did meanwhile weighs
// on both alike.
func (m rowCPU) ratio(a, b string) (float64, bool) {
	as, bs := m.servers[a], m.servers[b]
	if len(as) == 0 || len(as) != len(bs) {
		return 0, false
	}
	ratios := make([]float64, len(as))
	for i := range as {
		ratios[i] = as[i] / bs[i]
	}
	return median(ratios), true
}

// measureRow measures one row: every server built is started and warmed
// up, then each round offers the load to each in turn.
func measureRow(ctx context.Context, servers []cpuServer, self string, load cpuLoad) (rowCPU, error) {
	m := rowCPU{servers: map[string][]float64{}}
	var running []*server
	var names []string
	defer func() {
		for _, srv := range running {
			srv.stop()
		}
	}()
	for _, s := range servers {
		if s.cmd == nil {
			continue
		}
		srv, err := startServer(s.cmd[0], s.cmd[1:]...)
		if err != nil {
			return m, fmt.Errorf("%s at %d conns: %w", s.name, load.conns, err)
		}
		running, names = append(running, srv), append(names, s.name)
		// A warm-up, left out: connections made, buffers grown.
		if _, _, err := offer(ctx, self, srv, append(load.args(srv.addr), "-d", "500ms")); err != nil {
			return m, fmt.Errorf("%s at %d conns: %w", s.name, load.conns, err)
		}
	}
	for range cpuRounds {
		for i, srv := range running {
			sv, cl, err := offer(ctx, self, srv, append(load.args(srv.addr), "-d", cpuRun.String()))
			if err != nil {
				return m, fmt.Errorf("%s at %d conns: %w", names[i], load.conns, err)
			}
			m.servers[names[i]] = append(m.servers[names[i]], sv)
			m.clients = append(m.clients, cl)
		}
	}
	return m, nil
}

// offer runs echobench with args against srv and returns the server's
// and the client's CPU a round trip, in microseconds.
func offer(ctx context.Context, self string, srv *server, args []string) (server, client float64, err error) {
	before, err := processCPU(srv.cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.CommandContext(ctx, self, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("echobench %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	after, err := processCPU(srv.cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	var rep struct {
		RoundTrips int64 `json:"round_trips"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return 0, 0, fmt.Errorf("echobench's report: %w", err)
	}
	if rep.RoundTrips == 0 {
		return 0, 0, fmt.Errorf("no round trips: %s", stdout.String())
	}
	own := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return float64((after - before).Microseconds()) / float64(rep.RoundTrips), float64(own.Microseconds()) / float64(rep.RoundTrips), nil
}

// processCPU is the CPU time, user and system, process pid has spent, from
// /proc/PID/stat (in clock ticks of 10 ms: enough over seconds of load).
func processCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("the server's CPU time: %w", err)
	}
	// The command, field 2, may hold spaces: count from its closing ")".
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("the server's CPU time: %q", stat)
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("the server's CPU time: %w", err)
		}
		ticks += n
	}
	const clkTck = 100 // sysconf(_SC_CLK_TCK) on Linux
	return time.Duration(ticks) * time.Second / clkTck, nil
}
