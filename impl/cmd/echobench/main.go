// Command echobench measures an echo service: round trips a second,
// megabytes a second and latency, every echo checked byte for byte.
//
//	echobench -addr ADDR [-proto tcp|udp] [-mode pingpong|stream|idle] [-c CONNS] [-size BYTES] [-line] [-d DURATION]
//	echobench -compare -bin DIR       the table of make bench: ours against the stdlib baselines
//	echobench -serve-baseline tcp|tls|udp [-listen ADDR]
//
// It exits 0 when every echo came back right, 1 when one did not.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/echospec/echo/impl/echobench"
	"github.com/echospec/echo/internal/cli"
)

func main() { cli.Main(run) }

const synopsis = `echobench -addr ADDR [-proto tcp|udp] [-mode pingpong|stream|idle|watch] [-framing stream|line|fixed] [-c CONNS] [-size BYTES] [-line] [-d DURATION] [-timeout D] [-rate N [-max-in-flight N]] [-warmup D] [-tls [-tls-ca FILE] [-tls-insecure] [-tls-server-name NAME] [-tls-cert FILE -tls-key FILE]] [-proxy-header v1|v2] [-json FILE [-q]] [-hgrm FILE] [-plot FILE.svg]
       echobench -mode watch -addr ADDR [-proto tcp|udp] [-c FLOWS] [-rate N] [-d DURATION] [-timeout D] [-gap D] [-max-gap D] [-max-lost N] [-json FILE [-q]] [-plot FILE.svg]
       echobench -addr ADDR (-ramp FROM:TO:STEP | -find-max p99=5ms [-find-start N]) [-c CONNS] [-size BYTES] [-line] [-d DURATION] [-warmup D]
       echobench merge [-json FILE] [-hgrm FILE] REPORT.json...
       echobench probe [-targets FILE] [-timeout D] [-retries N] [-c N] [-json FILE [-q]] (tcp|udp)://HOST:PORT[=allow|=deny]...
       echobench -compare -bin DIR [-rounds N] [-d DURATION] [-run REGEXP] [-plot FILE.svg]
       echobench -serve-baseline tcp|tls|udp [-listen ADDR] [-tls-cert FILE -tls-key FILE]`

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "merge":
			return runMerge(args[1:], stdout, stderr)
		case "probe":
			return runProbe(ctx, args[1:], stdout, stderr)
		}
	}
	return runMeasure(ctx, args, stdout, stderr)
}

// runMeasure measures, watches, compares or serves a baseline, as the
// flags say.
func runMeasure(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("echobench", synopsis, stderr)
	var cfg echobench.Config
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "echo service `address`, host:port")
	fs.StringVar(&cfg.Proto, "proto", echobench.TCP, "`protocol`: tcp or udp")
	fs.StringVar(&cfg.Mode, "mode", echobench.PingPong, "`mode`: pingpong (send a message, wait for its echo, again), stream (write -size bytes while reading them back), idle (have one message echoed on each of -c connections, hold them all silent for -d, then one more on each) or watch (-c flows send numbered messages at -rate for -d, reconnecting when a connection ends, and report each second and in all what was lost, late, out of order or duplicated, each flow's gaps with their causes, and which backend answered)")
	conns := cli.PositiveInt(fs, "c", 1, "`N`: connections, or UDP sockets, at once")
	fs.IntVar(&cfg.Size, "size", 0, "`bytes` in a ping-pong message (default 128), or sent by each stream (default 256 MiB)")
	fs.BoolVar(&cfg.Line, "line", false, "end each message with a newline (and a stream's every 128 bytes), for line servers: the same as -framing line")
	framing := fs.String("framing", "", "the server's `framing`: line (messages end in a newline, as -line) or stream or fixed (messages hold no newline; each is read back as sent)")
	duration := cli.Duration(fs, "d", echobench.DefaultDuration, "the `duration` ping-pong runs for, and the most a stream may take")
	timeout := cli.Duration(fs, "timeout", echobench.DefaultTimeout, "the `duration` one echo may take; a UDP datagram not back by then is lost")
	fs.Float64Var(&cfg.Rate, "rate", 0, "`messages` a second across all connections, sent open loop: each at its scheduled time whatever has come back, latency counted from that time (TCP ping-pong, default: closed loop, each connection waiting for its echo; watch, default: 10 a second per flow)")
	watchFlags := addWatchFlags(fs)
	fs.IntVar(&cfg.MaxInFlight, "max-in-flight", echobench.DefaultMaxInFlight, "with -rate: the most `messages` one connection may have unanswered; past it the sender waits, and the wait counts")
	warmup := cli.Duration(fs, "warmup", 0, "run this `duration` first and leave it out of the results")
	quiet := fs.Bool("q", false, "print no text report: with -json -, stdout holds the JSON alone and stderr nothing but an error, as kubectl logs (which joins the two) needs")
	jsonOut := fs.String("json", "", "also write the results, the whole latency histograms included, as JSON to this `file` (- for stdout, the text report then going to stderr); echobench merge adds such files up")
	ramp := fs.String("ramp", "", "run open loop at each rate `FROM:TO:STEP` in turn, each for -d, and print a row for each")
	findMax := fs.String("find-max", "", "search for the highest open-loop rate whose corrected latency meets this `bound`, written as p99=5ms (any percentile), and print the rates tried")
	findStart := fs.Float64("find-start", 1000, "with -find-max: the first `rate` tried; the search doubles it until a run misses the bound")
	plotFile := fs.String("plot", "", "also draw latency by percentile, on HdrHistogram's log scale, into this `file` (.svg, .png or .pdf); with -compare, one chart per case, ours and the baseline, named after the file and the case")
	hgrm := fs.String("hgrm", "", "also write the latency distribution (corrected, in open loop) to this `file` in HdrHistogram's percentile text format, in milliseconds")
	compare := fs.Bool("compare", false, "run make bench's table: our servers against the stdlib baselines and, where -bin holds gnetecho (make peers), gnet's event loop, alternating, on this machine")
	bin := fs.String("bin", "bin", "with -compare: the `folder` of tcpserver and udpserver, and of gnetecho if make peers built it")
	rounds := cli.PositiveInt(fs, "rounds", 9, "with -compare: `N` rounds per case, each one run of each side")
	only := fs.String("run", "", "with -compare: only the cases whose names match this `regexp`")
	baseline := fs.String("serve-baseline", "", "serve the stdlib baseline echo server for `protocol` tcp, tls (with -tls-cert and -tls-key as its certificate) or udp instead of measuring")
	listen := cli.HostPort(fs, "listen", "127.0.0.1:0", "with -serve-baseline: the `address` to listen on")
	connFlags := cli.AddClientConnFlags(fs)
	if err := cli.Parse(fs, args, true, stdout); err != nil {
		return err
	}
	tlsConfig, proxyHeader, err := connFlags.Config(fs)
	if err != nil {
		return err
	}
	cfg.TLS, cfg.ProxyHeader = tlsConfig, proxyHeader
	cfg.Conns, cfg.Duration, cfg.Timeout, cfg.Warmup = *conns, *duration, *timeout, *warmup
	if err := applyFraming(fs, &cfg, *framing); err != nil {
		return err
	}

	switch {
	case *baseline != "":
		return serveBaseline(ctx, *baseline, *listen, tlsConfig, stderr)
	case *compare:
		d := time.Second
		if flagSet(fs, "d") {
			d = *duration
		}
		match, err := regexp.Compile(*only)
		if err != nil {
			return cli.Usagef(fs, "invalid value %q for flag -run: %v", *only, err)
		}
		return compareTable(ctx, *bin, *rounds, d, match, *plotFile, stdout, stderr)
	}
	if *ramp != "" && *findMax != "" {
		return cli.Usagef(fs, "-ramp and -find-max are two searches: give one")
	}
	if *ramp != "" || *findMax != "" {
		return runSearch(ctx, fs, cfg, *ramp, *findMax, *findStart, stdout)
	}
	return runMode(ctx, fs, cfg, watchFlags, outputs{json: *jsonOut, hgrm: *hgrm, plot: *plotFile, quiet: *quiet}, stdout, stderr)
}

// runMode runs cfg once, as its mode says: a watch, or a measurement.
func runMode(ctx context.Context, fs *flag.FlagSet, cfg echobench.Config, watchFlags watchFlags, out outputs, stdout, stderr io.Writer) error {
	if cfg.Mode == echobench.Watch {
		return runWatch(ctx, fs, cfg, watchFlags, out, stdout, stderr)
	}
	if err := watchFlags.onlyInWatch(fs); err != nil {
		return err
	}
	return runOnce(ctx, fs, cfg, out, stdout, stderr)
}

// applyFraming sets what -framing says of the messages.
func applyFraming(fs *flag.FlagSet, cfg *echobench.Config, framing string) error {
	switch framing {
	case "":
	case "line":
		cfg.Line = true
	case "stream", "fixed":
		if cfg.Line {
			return cli.Usagef(fs, "-line and -framing %s disagree: a %s server's messages hold no newline", framing, framing)
		}
	default:
		return cli.Usagef(fs, "invalid value %q for flag -framing: framing must be stream, line or fixed", framing)
	}
	return nil
}

// outputs are the files a run writes besides its text report.
type outputs struct {
	json string // -json: the report; "-" for stdout
	hgrm string // -hgrm: the latency distribution
	plot string // -plot: its chart
	// quiet (-q): no text report, so that a -json - on stdout is alone in
	// a log that joins stdout and stderr.
	quiet bool
}

// runOnce runs cfg, prints what it measured and writes the outputs.
func runOnce(ctx context.Context, fs *flag.FlagSet, cfg echobench.Config, out outputs, stdout, stderr io.Writer) error {
	jsonOut := out.json
	started := time.Now()
	res, err := echobench.Run(ctx, cfg, progressLine(stderr))
	switch {
	case errors.Is(err, echobench.ErrConfig):
		return cli.Usagef(fs, "%v", err)
	case err != nil:
		return err // the service failed: one line, exit 1
	}
	text := stdout
	switch {
	case out.quiet:
		text = io.Discard
	case jsonOut == "-":
		text = stderr
	}
	printResult(text, res)
	if jsonOut != "" {
		rep, err := echobench.NewReport(res, started)
		if err != nil {
			return err
		}
		if err := writeReport(jsonOut, stdout, rep); err != nil {
			return err
		}
	}
	if out.hgrm != "" {
		if err := writeHgrm(out.hgrm, res.Latency); err != nil {
			return err
		}
	}
	if out.plot != "" {
		title := fmt.Sprintf("%s %s against %s, %d connections", cfg.Proto, cmp.Or(cfg.Mode, echobench.PingPong), cfg.Addr, cfg.Conns)
		all := []series{{"latency", res.Latency}}
		if res.Uncorrected != nil {
			title += fmt.Sprintf(", open loop at %.0f/s", cfg.Rate)
			all = []series{{"corrected (from the scheduled send)", res.Latency}, {"uncorrected (from the actual send)", res.Uncorrected}}
		}
		if err := plotLatency(out.plot, title, all...); err != nil {
			return err
		}
	}
	if res.Errors > 0 {
		return fmt.Errorf("%d errors; the first: %w", res.Errors, res.FirstError)
	}
	return nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// progressLine returns a progress reporter that rewrites one line on
// stderr, if stderr is a terminal; otherwise none, so logs stay clean.
func progressLine(stderr io.Writer) func(echobench.Result) {
	f := terminal(stderr)
	if f == nil {
		return nil
	}
	return func(r echobench.Result) {
		if r.Config.Mode == echobench.Stream {
			fmt.Fprintf(f, "\r%6.1fs  sent %9.1f MB  echoed %9.1f MB  %d errors ", r.Elapsed.Seconds(), float64(r.Sent)/1e6, float64(r.Bytes)/1e6, r.Errors)
			return
		}
		p99 := time.Duration(0)
		if r.Latency != nil {
			p99 = time.Duration(r.Latency.ValueAtQuantile(99)) * time.Microsecond
		}
		fmt.Fprintf(f, "\r%6.1fs  %12.0f round trips/s  %9.1f MB/s  p99 so far %-10v  %d errors ", r.Elapsed.Seconds(), r.RoundTripsPerSec(), r.MBPerSec(), p99, r.Errors)
	}
}

// terminal returns w if it is a terminal, for a status line; otherwise
// nil, so that pipes and files get none.
func terminal(w io.Writer) *os.File {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return f
}

// printResult prints what a run measured: round trips and their latency
// for ping-pong; for a stream, which has no round trips, the rate each
// way and the time to the first echoed byte.
func printResult(w io.Writer, r echobench.Result) {
	c := r.Config
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	if c.Mode == echobench.Stream {
		fmt.Fprintf(w, "%s %s against %s: %d connections, %d bytes each%s, %.1fs\n", c.Proto, c.Mode, c.Addr, c.Conns, c.Size, map[bool]string{true: " in 128-byte lines", false: ""}[c.Line], r.Elapsed.Seconds())
		fmt.Fprintf(w, "sent         %.1f MB/s (%d bytes in %.2fs)\n", r.SentMBPerSec(), r.Sent, r.SendElapsed.Seconds())
		fmt.Fprintf(w, "echoed       %.1f MB/s (%d bytes checked in %.2fs)\n", r.MBPerSec(), r.Bytes, r.Elapsed.Seconds())
		if h := r.FirstEcho; h.TotalCount() > 0 {
			if h.TotalCount() == 1 {
				fmt.Fprintf(w, "first echo   %v after the first write\n", us(h.Max()))
			} else {
				fmt.Fprintf(w, "first echo   p50 %v  max %v after each stream's first write\n", us(h.ValueAtQuantile(50)), us(h.Max()))
			}
		}
		fmt.Fprintf(w, "errors       %d\n", r.Errors)
		return
	}
	fmt.Fprintf(w, "%s %s against %s: %d connections, %d bytes%s, %.1fs\n", c.Proto, c.Mode, c.Addr, c.Conns, c.Size, map[bool]string{true: " ending in newlines", false: ""}[c.Line], r.Elapsed.Seconds())
	if c.Rate > 0 {
		fmt.Fprintf(w, "sent         %d messages at %.0f/s, open loop\n", r.Messages, c.Rate)
	}
	fmt.Fprintf(w, "round trips  %d (%.0f/s)\n", r.RoundTrips, r.RoundTripsPerSec())
	fmt.Fprintf(w, "throughput   %.1f MB/s\n", r.MBPerSec())
	percentiles := func(name string, h *hdrhistogram.Histogram, note string) {
		if h == nil || h.TotalCount() == 0 {
			return
		}
		q := func(p float64) time.Duration { return us(h.ValueAtQuantile(p)) }
		fmt.Fprintf(w, "%-12s p50 %v  p99 %v  p99.9 %v  max %v%s\n", name, q(50), q(99), q(99.9), us(h.Max()), note)
	}
	if r.Uncorrected == nil {
		percentiles("latency", r.Latency, "")
	} else {
		percentiles("latency", r.Latency, "  (corrected: from each message's scheduled send)")
		percentiles("uncorrected", r.Uncorrected, "  (from each message's actual send)")
	}
	fmt.Fprintf(w, "errors       %d\n", r.Errors)
}
