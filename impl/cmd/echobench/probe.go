package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/echospec/echo/impl/echobench"
	"github.com/echospec/echo/internal/cli"
)

const probeSynopsis = "echobench probe [-targets FILE] [-timeout D] [-retries N] [-c N] [-json FILE [-q]] (tcp|udp)://HOST:PORT[=allow|=deny]..."

// runProbe probes every target at once and prints the matrix: which are
// echoed, refused, unreachable, silent, wrong or not resolved.
func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("echobench probe", probeSynopsis, stderr)
	targetsFile := fs.String("targets", "", "read targets from this `file` too, one a line; # starts a comment")
	timeout := cli.Duration(fs, "timeout", echobench.DefaultProbeTimeout, "how long each try waits: the `duration` for the connection and the echo (TCP), for each datagram's echo (UDP)")
	retries := fs.Int("retries", echobench.DefaultProbeRetries, "how many more `datagrams` a UDP target gets when one brings nothing back, so that a lost datagram is not called a drop")
	conc := cli.PositiveInt(fs, "c", echobench.DefaultProbeConcurrency, "how many targets are probed at once, `N`")
	jsonOut := fs.String("json", "", "also write the verdicts as a JSON list, one object a target, to this `file` (- for stdout, the table then going to stderr)")
	quiet := fs.Bool("q", false, "print no table: with -json -, stdout holds the JSON alone")
	if err := cli.Parse(fs, args, false, stdout); err != nil {
		return err
	}
	// Flags may come after targets too, as in most command lines.
	var specs []string
	for fs.NArg() > 0 {
		specs = append(specs, fs.Arg(0))
		if err := cli.ParseMore(fs, fs.Args()[1:]); err != nil {
			return err
		}
	}
	if *retries < 0 {
		return cli.Usagef(fs, "invalid value %d for flag -retries: 0 or more", *retries)
	}
	targets, err := readTargets(fs, specs, *targetsFile)
	if err != nil {
		return err
	}
	// A target takes a descriptor or two; leave room for the rest.
	if limit := roomForConnections(0); limit > 200 && uint64(*conc) > limit-100 {
		*conc = int(limit - 100)
	}
	cfg := echobench.ProbeConfig{Timeout: *timeout, Retries: *retries, Concurrency: *conc}
	if *retries == 0 {
		cfg.Retries = -1 // none, not the default
	}
	results := echobench.Probe(ctx, targets, cfg)
	text := stdout
	switch {
	case *quiet:
		text = io.Discard
	case *jsonOut == "-":
		text = stderr
	}
	printMatrix(text, results)
	if *jsonOut != "" {
		if err := writeProbeJSON(*jsonOut, stdout, results); err != nil {
			return err
		}
	}
	return echobench.Contradictions(results)
}

// readTargets gathers the targets from the arguments and the file.
func readTargets(fs *flag.FlagSet, specs []string, file string) ([]echobench.Target, error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("-targets: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			if line = strings.TrimSpace(line); line != "" {
				specs = append(specs, line)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("-targets %s: %w", file, err)
		}
	}
	if len(specs) == 0 {
		return nil, cli.Usagef(fs, "no targets: give tcp://HOST:PORT or udp://HOST:PORT, or -targets FILE")
	}
	targets := make([]echobench.Target, len(specs))
	for i, s := range specs {
		t, err := echobench.ParseTarget(s)
		if err != nil {
			return nil, cli.Usagef(fs, "%v", err)
		}
		targets[i] = t
	}
	return targets, nil
}

// printMatrix prints one row a target, and a line that counts the
// verdicts.
func printMatrix(w io.Writer, results []echobench.ProbeResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tVERDICT\tEXPECT\tTIME\tDETAIL")
	counts := map[string]int{}
	contradicted := 0
	for _, r := range results {
		counts[r.Verdict]++
		expect := r.Target.Expect
		if r.Contradicts() {
			expect += " ✗"
			contradicted++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", r.Target, r.Verdict, expect, echobench.FormatTook(r.Took), r.Detail)
	}
	tw.Flush()
	var parts []string
	for _, v := range []string{echobench.Echoed, echobench.Refused, echobench.Unreachable, echobench.Silent, echobench.Wrong, echobench.DNS} {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
		}
	}
	fmt.Fprintf(w, "%d targets: %s; %d contradict their expectation\n", len(results), strings.Join(parts, ", "), contradicted)
}

// writeProbeJSON writes the verdicts as a JSON list to the file name, or
// to stdout for "-".
func writeProbeJSON(name string, stdout io.Writer, results []echobench.ProbeResult) error {
	lines := make([]echobench.ProbeLine, len(results))
	for i, r := range results {
		lines[i] = r.Line()
	}
	write := func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(lines)
	}
	if name == "-" {
		return write(stdout)
	}
	return writeFile(name, "-json", write)
}
