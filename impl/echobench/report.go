package echobench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// ReportSchema names the format of a Report, which changes name when it
// changes meaning.
const ReportSchema = "echobench/1"

// Report is a run's result as a machine reads it (echobench -json): what
// was asked, where it ran, what it counted, and the whole latency
// histograms in HdrHistogram's standard compressed encoding, so that runs
// made at the same time on several machines can be merged exactly.
type Report struct {
	Schema  string       `json:"schema"`
	Config  ReportConfig `json:"config"`
	Machine Machine      `json:"machine"`
	// Machines is how many reports this one was merged from (1 for a run).
	Machines int `json:"machines"`
	// Started is when the run began; Elapsed how long it took, in seconds
	// (the longest, for a merge).
	Started        time.Time `json:"started"`
	ElapsedSeconds float64   `json:"elapsed_s"`
	Messages       int64     `json:"messages,omitempty"` // sent, in open loop
	RoundTrips     int64     `json:"round_trips"`
	Bytes          int64     `json:"bytes"`
	Errors         int64     `json:"errors"`
	FirstError     string    `json:"first_error,omitempty"`
	// RoundTripsPerSecond and MBPerSecond are the rates (summed, for a
	// merge: the machines ran at the same time).
	RoundTripsPerSecond float64 `json:"round_trips_per_s"`
	MBPerSecond         float64 `json:"mb_per_s"`
	// Latency is in microseconds: corrected in open loop. Uncorrected is
	// open loop's latency from each actual send.
	Latency     *Latency `json:"latency_us,omitempty"`
	Uncorrected *Latency `json:"uncorrected_us,omitempty"`
	// Watch is what a watch saw (-mode watch).
	Watch *WatchReport `json:"watch,omitempty"`
}

// ReportConfig is the part of Config a Report keeps.
type ReportConfig struct {
	Addr            string  `json:"addr"`
	Proto           string  `json:"proto"`
	Mode            string  `json:"mode"`
	Conns           int     `json:"conns"`
	Size            int     `json:"size"`
	Line            bool    `json:"line"`
	DurationSeconds float64 `json:"duration_s"`
	WarmupSeconds   float64 `json:"warmup_s,omitempty"`
	Rate            float64 `json:"rate,omitempty"`
	TLS             bool    `json:"tls,omitempty"`
	ProxyHeader     int     `json:"proxy_header,omitempty"`
}

// Machine is where a run ran.
type Machine struct {
	Hostname string `json:"hostname"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	CPUs     int    `json:"cpus"`
	Go       string `json:"go"`
}

// Latency is a latency distribution: a few percentiles to read, and the
// histogram they come from.
type Latency struct {
	Count int64 `json:"count"`
	P50   int64 `json:"p50"`
	P90   int64 `json:"p90"`
	P99   int64 `json:"p99"`
	P999  int64 `json:"p99.9"`
	Max   int64 `json:"max"`
	// Histogram is HdrHistogram's V2 compressed encoding, base64: what
	// HdrHistogram's own tools (Java, C, Go, ...) decode.
	Histogram string `json:"histogram"`
}

func latencyOf(h *hdrhistogram.Histogram) (*Latency, error) {
	if h == nil {
		return nil, nil
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return nil, fmt.Errorf("encode the latency histogram: %w", err)
	}
	return &Latency{Count: h.TotalCount(), P50: h.ValueAtQuantile(50), P90: h.ValueAtQuantile(90), P99: h.ValueAtQuantile(99),
		P999: h.ValueAtQuantile(99.9), Max: h.Max(), Histogram: string(enc)}, nil
}

// Decode decodes the distribution.
func (l *Latency) Decode() (*hdrhistogram.Histogram, error) {
	h, err := hdrhistogram.Decode([]byte(l.Histogram))
	if err != nil {
		return nil, fmt.Errorf("decode a latency histogram: %w", err)
	}
	return h, nil
}

// NewReport makes the Report of r, which started at started.
func NewReport(r Result, started time.Time) (Report, error) {
	host, _ := os.Hostname()
	c := r.Config
	rep := Report{
		Schema: ReportSchema,
		Config: ReportConfig{Addr: c.Addr, Proto: c.Proto, Mode: c.Mode, Conns: c.Conns, Size: c.Size, Line: c.Line,
			DurationSeconds: c.Duration.Seconds(), WarmupSeconds: c.Warmup.Seconds(), Rate: c.Rate, TLS: c.TLS != nil, ProxyHeader: c.ProxyHeader},
		Machine:  Machine{Hostname: host, OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version()},
		Machines: 1, Started: started, ElapsedSeconds: r.Elapsed.Seconds(),
		Messages: r.Messages, RoundTrips: r.RoundTrips, Bytes: r.Bytes, Errors: r.Errors,
		RoundTripsPerSecond: r.RoundTripsPerSec(), MBPerSecond: r.MBPerSec(),
	}
	if r.FirstError != nil {
		rep.FirstError = r.FirstError.Error()
	}
	var err error
	if r.Latency != nil && r.Latency.TotalCount() > 0 {
		rep.Latency, err = latencyOf(r.Latency)
	}
	if err == nil {
		rep.Uncorrected, err = latencyOf(r.Uncorrected)
	}
	return rep, err
}

// WriteReport writes rep as indented JSON.
func WriteReport(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// ReadReport reads a Report written by WriteReport.
func ReadReport(r io.Reader) (Report, error) {
	var rep Report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return Report{}, fmt.Errorf("read a report: %w", err)
	}
	if rep.Schema != ReportSchema {
		return Report{}, fmt.Errorf("a report of schema %q, not %q", rep.Schema, ReportSchema)
	}
	return rep, nil
}

// ErrMerge says reports cannot be merged: they measured different things.
var ErrMerge = errors.New("reports that measured different things cannot be merged")

// Merge combines reports of runs made at the same time against one
// service, as one run over all their connections would report it:
// histograms added, counts and rates summed, the percentiles read from
// the sum. The configuration is the first's, with the connections (and
// a rate) summed.
func Merge(reports ...Report) (Report, error) {
	if len(reports) == 0 {
		return Report{}, fmt.Errorf("%w: none given", ErrMerge)
	}
	out := reports[0]
	out.Machines, out.Messages, out.RoundTrips, out.Bytes, out.Errors = 0, 0, 0, 0, 0
	out.RoundTripsPerSecond, out.MBPerSecond, out.ElapsedSeconds = 0, 0, 0
	out.Config.Conns, out.Config.Rate = 0, 0
	var lat, unc *hdrhistogram.Histogram
	for i, r := range reports {
		if r.Config.Proto != out.Config.Proto || r.Config.Mode != out.Config.Mode || r.Config.Size != out.Config.Size || (r.Config.Rate > 0) != (reports[0].Config.Rate > 0) {
			return Report{}, fmt.Errorf("%w: report %d is %s %s of %d bytes%s", ErrMerge, i+1, r.Config.Proto, r.Config.Mode, r.Config.Size, map[bool]string{true: ", open loop"}[r.Config.Rate > 0])
		}
		out.Machines += r.Machines
		out.Messages += r.Messages
		out.RoundTrips += r.RoundTrips
		out.Bytes += r.Bytes
		out.Errors += r.Errors
		if out.FirstError == "" {
			out.FirstError = r.FirstError
		}
		out.RoundTripsPerSecond += r.RoundTripsPerSecond
		out.MBPerSecond += r.MBPerSecond
		out.ElapsedSeconds = max(out.ElapsedSeconds, r.ElapsedSeconds)
		out.Config.Conns += r.Config.Conns
		out.Config.Rate += r.Config.Rate
		if r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		var err error
		if lat, err = add(lat, r.Latency); err != nil {
			return Report{}, err
		}
		if unc, err = add(unc, r.Uncorrected); err != nil {
			return Report{}, err
		}
	}
	var err error
	if out.Latency, err = latencyOf(lat); err == nil {
		out.Uncorrected, err = latencyOf(unc)
	}
	return out, err
}

// add adds l's histogram to sum, which may be nil.
func add(sum *hdrhistogram.Histogram, l *Latency) (*hdrhistogram.Histogram, error) {
	if l == nil {
		return sum, nil
	}
	h, err := l.Decode()
	if err != nil {
		return nil, err
	}
	if sum == nil {
		return h, nil
	}
	if dropped := sum.Merge(h); dropped > 0 {
		return nil, fmt.Errorf("%w: %d latencies out of the histogram's range", ErrMerge, dropped)
	}
	return sum, nil
}

// WriteHgrm writes h, in microseconds, as HdrHistogram's percentile
// distribution text (the .hgrm that HdrHistogram's plotter reads), in
// milliseconds, five ticks per half distance as HdrHistogram's tools do.
func WriteHgrm(w io.Writer, h *hdrhistogram.Histogram) error {
	_, err := h.PercentilesPrint(w, 5, 1000)
	return err
}
