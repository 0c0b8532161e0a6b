package echobench

import (
	"os"
	"runtime"
	"time"
)

// WatchReport is a watch's result as a machine reads it: the "watch" of
// a Report.
type WatchReport struct {
	WatchCounts
	Wrong        int64            `json:"wrong"`
	LongestGapMS float64          `json:"longest_gap_ms"`
	Gaps         []GapReport      `json:"gaps"`
	Backends     map[string]int64 `json:"backends"`
	Unidentified int64            `json:"unidentified"`
	Seconds      []WatchSecond    `json:"seconds"`
}

// GapReport is a Gap as a machine reads it.
type GapReport struct {
	Flow     int       `json:"flow"`
	Start    time.Time `json:"start"`
	StartMS  float64   `json:"start_ms"` // from the watch's start
	Length   string    `json:"length"`
	LengthMS float64   `json:"length_ms"`
	Cause    string    `json:"cause"`
	Before   string    `json:"before,omitempty"`
	After    string    `json:"after,omitempty"`
	Open     bool      `json:"open,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// NewWatchReport makes the Report of a watch.
func NewWatchReport(r WatchResult) (Report, error) {
	host, _ := os.Hostname()
	c := r.Config
	rep := Report{
		Schema: ReportSchema,
		Config: ReportConfig{Addr: c.Addr, Proto: c.Proto, Mode: c.Mode, Conns: c.Conns, Size: c.Size, Line: c.Line,
			DurationSeconds: c.Duration.Seconds(), Rate: c.Rate, TLS: c.TLS != nil, ProxyHeader: c.ProxyHeader},
		Machine:  Machine{Hostname: host, OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version()},
		Machines: 1, Started: r.Started, ElapsedSeconds: r.Elapsed.Seconds(),
		Messages: r.Sent, RoundTrips: r.Echoed, Bytes: r.Echoed * int64(c.Size), Errors: r.Wrong,
		RoundTripsPerSecond: float64(r.Echoed) / r.Elapsed.Seconds(), MBPerSecond: float64(r.Echoed*int64(c.Size)) / 1e6 / r.Elapsed.Seconds(),
	}
	if r.FirstWrong != nil {
		rep.FirstError = r.FirstWrong.Error()
	}
	w := &WatchReport{WatchCounts: r.WatchCounts,
		Wrong: r.Wrong, LongestGapMS: ms(r.LongestGap().Length), Gaps: []GapReport{},
		Backends: r.Backends, Unidentified: r.Unidentified, Seconds: r.Seconds}
	for _, g := range r.Gaps {
		w.Gaps = append(w.Gaps, GapReport{Flow: g.Flow, Start: r.Started.Add(g.Start), StartMS: ms(g.Start), Length: g.Length.Round(time.Millisecond).String(),
			LengthMS: ms(g.Length), Cause: g.Cause, Before: g.Before, After: g.After, Open: g.Open})
	}
	rep.Watch = w
	var err error
	if r.Latency != nil && r.Latency.TotalCount() > 0 {
		rep.Latency, err = latencyOf(r.Latency)
	}
	return rep, err
}
