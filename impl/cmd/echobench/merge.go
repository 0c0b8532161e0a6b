package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/echospec/echo/impl/echobench"
	"github.com/echospec/echo/internal/cli"
)

const mergeSynopsis = "echobench merge [-json FILE] [-hgrm FILE] REPORT.json..."

// runMerge adds up the -json reports of runs made at the same time on
// several machines and prints what one run over all their connections
// would have.
func runMerge(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("echobench merge", mergeSynopsis, stderr)
	jsonOut := fs.String("json", "", "also write the merged report as JSON to this `file` (- for stdout, the text then going to stderr)")
	hgrm := fs.String("hgrm", "", "also write the merged latency distribution to this `file` in HdrHistogram's percentile text format, in milliseconds")
	if err := cli.Parse(fs, args, false, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return cli.Usagef(fs, "no reports to merge")
	}
	var reports []echobench.Report
	for _, name := range fs.Args() {
		rep, err := readReportFile(name)
		if err != nil {
			return err
		}
		reports = append(reports, rep)
	}
	merged, err := echobench.Merge(reports...)
	if err != nil {
		return err
	}
	text := stdout
	if *jsonOut == "-" {
		text = stderr
	}
	printReport(text, merged)
	if *hgrm != "" && merged.Latency != nil {
		h, err := merged.Latency.Decode()
		if err != nil {
			return err
		}
		if err := writeHgrm(*hgrm, h); err != nil {
			return err
		}
	}
	if *jsonOut != "" {
		return writeReport(*jsonOut, stdout, merged)
	}
	return nil
}

// writeHgrm writes h's percentile distribution to the file name.
func writeHgrm(name string, h *hdrhistogram.Histogram) error {
	return writeFile(name, "-hgrm", func(w io.Writer) error { return echobench.WriteHgrm(w, h) })
}

// writeFile writes a file with write, naming flag in any error.
func writeFile(name, flag string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("write %s: %w", flag, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s %s: %w", flag, name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s %s: %w", flag, name, err)
	}
	return nil
}

func readReportFile(name string) (echobench.Report, error) {
	f, err := os.Open(name)
	if err != nil {
		return echobench.Report{}, err
	}
	defer f.Close()
	rep, err := echobench.ReadReport(f)
	if err != nil {
		return echobench.Report{}, fmt.Errorf("%s: %w", name, err)
	}
	return rep, nil
}

// writeReport writes rep to the file name, or to stdout for "-".
func writeReport(name string, stdout io.Writer, rep echobench.Report) error {
	if name == "-" {
		return echobench.WriteReport(stdout, rep)
	}
	return writeFile(name, "-json", func(w io.Writer) error { return echobench.WriteReport(w, rep) })
}

// printReport prints a merged report as printResult prints a run.
func printReport(w io.Writer, r echobench.Report) {
	c := r.Config
	fmt.Fprintf(w, "%d reports merged: %s %s against %s: %d connections, %d bytes, %.1fs\n", r.Machines, c.Proto, c.Mode, c.Addr, c.Conns, c.Size, r.ElapsedSeconds)
	if c.Rate > 0 {
		fmt.Fprintf(w, "sent         %d messages at %.0f/s, open loop\n", r.Messages, c.Rate)
	}
	fmt.Fprintf(w, "round trips  %d (%.0f/s)\n", r.RoundTrips, r.RoundTripsPerSecond)
	fmt.Fprintf(w, "throughput   %.1f MB/s\n", r.MBPerSecond)
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	for _, l := range []struct {
		name string
		lat  *echobench.Latency
	}{{"latency", r.Latency}, {"uncorrected", r.Uncorrected}} {
		if l.lat != nil && l.lat.Count > 0 {
			fmt.Fprintf(w, "%-12s p50 %v  p99 %v  p99.9 %v  max %v\n", l.name, us(l.lat.P50), us(l.lat.P99), us(l.lat.P999), us(l.lat.Max))
		}
	}
	fmt.Fprintf(w, "errors       %d\n", r.Errors)
}
