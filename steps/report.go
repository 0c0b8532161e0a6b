package steps

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"
	"github.com/cucumber/godog/formatters"
	gherkin "github.com/cucumber/messages/go/v34"
	"github.com/jstemmer/go-junit-report/v2/junit"
)

// godog's own formatters count a scenario whose steps skipped as passed,
// one that go test -run left out as undefined, and write JUnit reports
// with negative times (they subtract start times of scenarios that ran
// concurrently) and skips as errors. godog finds a formatter by the first
// name registered, so these cannot replace "progress", "pretty" and
// "junit"; runSuite maps those names to these instead.
const (
	tallyFormat    = "echo-tally"
	progressFormat = "echo-progress"
	prettyFormat   = "echo-pretty"
	junitFormat    = "echo-junit"
)

// ours maps the format names a user gives to the formatters that count
// as this project does.
var ours = map[string]string{"progress": progressFormat, "pretty": prettyFormat, "junit": junitFormat}

var (
	// runMu keeps godog's runs apart: godog keeps a run's seed in the
	// process's environment, so two runs at once would mix them anyway,
	// and the formatters below find their run's Results in running.
	runMu   sync.Mutex
	running *Results
)

func init() {
	formatters.Format(tallyFormat, "counts each scenario as passed, failed, skipped or not selected (added by the steps package)", func(suite string, _ io.Writer) formatters.Formatter {
		return &tally{BaseFmt: godog.NewBaseFmt(suite, io.Discard), results: running}
	})
	formatters.Format(progressFormat, "godog's progress, with skipped and not-selected scenarios counted apart", func(suite string, out io.Writer) formatters.Formatter {
		w := &summaryWriter{out: out, results: running}
		return &countedProgress{ProgressFmt: godog.NewProgressFmt(suite, w), w: w}
	})
	formatters.Format(prettyFormat, "godog's pretty, with skipped and not-selected scenarios counted apart", func(suite string, out io.Writer) formatters.Formatter {
		w := &summaryWriter{out: out, results: running}
		return &countedPretty{PrettyFmt: godog.NewPrettyFmt(suite, w), w: w}
	})
	formatters.Format(junitFormat, "JUnit XML: one test case per scenario, skips as <skipped/>, times never negative", func(suite string, out io.Writer) formatters.Formatter {
		return &junitReport{BaseFmt: godog.NewBaseFmt(suite, io.Discard), suite: suite, out: out, results: running}
	})
}

// formatsFor maps a godog -format value ("progress,junit:report.xml") to
// the formatters above, and adds the tally that every run needs. It also
// says whether one of them prints every step as it runs.
func formatsFor(format string) (mapped string, stepByStep bool) {
	parts := []string{tallyFormat}
	for _, f := range strings.Split(format, ",") {
		name, path, hasPath := strings.Cut(f, ":")
		if o, ok := ours[name]; ok {
			name = o
		}
		stepByStep = stepByStep || name == prettyFormat
		if hasPath {
			name += ":" + path
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, ","), stepByStep
}

// tally feeds godog's events about every scenario into the run's Results;
// it writes nothing.
type tally struct {
	*godog.BaseFmt
	results *Results
}

func (f *tally) Feature(doc *gherkin.GherkinDocument, uri string, _ []byte) {
	name := uri
	if doc != nil && doc.Feature != nil {
		name = doc.Feature.Name
	}
	f.results.feature(uri, name)
}

func (f *tally) Pickle(p *gherkin.Pickle) { f.results.pickle(p) }

func (f *tally) Passed(p *gherkin.Pickle, st *gherkin.PickleStep, _ *formatters.StepDefinition) {
	f.results.step(p, st, "passed", nil)
}

func (f *tally) Skipped(p *gherkin.Pickle, st *gherkin.PickleStep, _ *formatters.StepDefinition) {
	f.results.step(p, st, "skipped", nil)
}

func (f *tally) Failed(p *gherkin.Pickle, st *gherkin.PickleStep, _ *formatters.StepDefinition, err error) {
	f.results.step(p, st, "failed", err)
}

func (f *tally) Undefined(p *gherkin.Pickle, st *gherkin.PickleStep, _ *formatters.StepDefinition) {
	f.results.step(p, st, "undefined", nil)
}

func (f *tally) Pending(p *gherkin.Pickle, st *gherkin.PickleStep, _ *formatters.StepDefinition) {
	f.results.step(p, st, "pending", nil)
}

func (f *tally) Ambiguous(p *gherkin.Pickle, st *gherkin.PickleStep, _ *formatters.StepDefinition, err error) {
	f.results.step(p, st, "ambiguous", err)
}

// Summary prints nothing: the counts are the Results'.
func (f *tally) Summary() {}

// countedProgress is godog's progress formatter with its scenario count
// told as this project counts.
type countedProgress struct {
	*godog.ProgressFmt
	w *summaryWriter
}

// Summary prints godog's summary with the scenario line corrected.
func (f *countedProgress) Summary() { f.w.correct(f.ProgressFmt.Summary) }

// countedPretty is godog's pretty formatter with its scenario count told
// as this project counts.
type countedPretty struct {
	*godog.PrettyFmt
	w *summaryWriter
}

// Summary prints godog's summary with the scenario line corrected.
func (f *countedPretty) Summary() { f.w.correct(f.PrettyFmt.Summary) }

// summaryWriter passes a formatter's output through, except while its
// summary is written: then it holds the text back to correct the line
// that counts scenarios.
type summaryWriter struct {
	out     io.Writer
	results *Results

	mu   sync.Mutex
	held *bytes.Buffer
}

func (w *summaryWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.held != nil {
		return w.held.Write(p)
	}
	return w.out.Write(p)
}

// scenarioLine is godog's count: "9 scenarios (9 passed)", colours aside.
var scenarioLine = regexp.MustCompile(`^(\x1b\[[0-9;]*m)*\d+ scenarios \(.*\)(\x1b\[[0-9;]*m)*$`)

// correct runs summary, which writes godog's summary through w, and
// writes it out with the scenario line replaced by the Results' count.
func (w *summaryWriter) correct(summary func()) {
	w.mu.Lock()
	w.held = new(bytes.Buffer)
	w.mu.Unlock()
	summary()
	w.mu.Lock()
	text := w.held.String()
	w.held = nil
	w.mu.Unlock()

	c := w.results.Count()
	total := c.Passed + c.Failed + c.Skipped + c.NotSelected
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if scenarioLine.MatchString(l) {
			lines[i] = fmt.Sprintf("%d scenarios (%s)", total, c.scenarioParts())
		}
	}
	io.WriteString(w.out, strings.Join(lines, "\n"))
}

// junitReport writes the run as JUnit XML, with the encoding of
// go-junit-report (which CI servers read): a test suite per feature, a
// test case per scenario, skipped and not-selected scenarios as
// <skipped/> with the reason, failures with the failing step, and each
// time measured by the scenario's own hooks, so never negative.
type junitReport struct {
	*godog.BaseFmt
	suite   string
	out     io.Writer
	results *Results
}

// Summary writes the report.
func (f *junitReport) Summary() {
	f.results.finish()
	report := f.results.junit(f.suite)
	io.WriteString(f.out, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	if err := report.WriteXML(f.out); err != nil {
		fmt.Fprintf(f.out, "<!-- the report could not be written: %v -->\n", err)
	}
}

// junit builds the report of the run so far.
func (r *Results) junit(suite string) junit.Testsuites {
	list := r.list()
	r.mu.Lock()
	features := append([]featureResult(nil), r.features...)
	started, ended := r.started, r.ended
	r.mu.Unlock()
	sort.Slice(features, func(i, j int) bool { return features[i].uri < features[j].uri })
	if ended.IsZero() {
		ended = time.Now()
	}
	report := junit.Testsuites{Name: suite, Time: seconds(ended.Sub(started))}
	for i, feat := range features {
		ts := junitSuite(feat, list)
		ts.ID = i
		ts.SetTimestamp(started)
		report.AddSuite(ts)
	}
	return report
}

// junitSuite is one feature's test suite: a test case for each of its
// scenarios, and as its time, from the first scenario's start to the last
// one's end.
func junitSuite(feat featureResult, list []scenarioResult) junit.Testsuite {
	ts := junit.Testsuite{Name: feat.name, File: feat.uri, Time: seconds(0)}
	var mine []scenarioResult
	seen := map[string]int{}
	for _, s := range list {
		if s.uri == feat.uri {
			mine = append(mine, s)
			seen[s.name]++
		}
	}
	var first, last time.Time
	numbered := map[string]int{}
	for _, s := range mine {
		tc := junitCase(feat, s)
		if seen[s.name] > 1 { // an outline's rows share its name
			numbered[s.name]++
			tc.Name = fmt.Sprintf("%s #%d", s.name, numbered[s.name])
		}
		if s.ran && !s.end.IsZero() {
			if first.IsZero() || s.start.Before(first) {
				first = s.start
			}
			last = maxTime(last, s.end)
		}
		ts.AddTestcase(tc)
	}
	if !first.IsZero() {
		ts.Time = seconds(last.Sub(first))
	}
	return ts
}

// junitCase is one scenario's test case.
func junitCase(feat featureResult, s scenarioResult) junit.Testcase {
	tc := junit.Testcase{Name: s.name, Classname: feat.name, Status: s.outcome.String(), Time: seconds(0)}
	if s.ran && !s.end.IsZero() {
		tc.Time = seconds(s.end.Sub(s.start))
	}
	switch s.outcome {
	case Skipped:
		tc.Skipped = &junit.Result{Message: s.why}
	case NotSelected:
		tc.Skipped = &junit.Result{Message: "not selected"}
	case Failed:
		res := &junit.Result{Message: s.why, Type: s.failKind}
		if s.failKind == "failed" {
			tc.Failure = res
		} else {
			tc.Error = res
		}
	}
	return tc
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// seconds is a JUnit time: seconds with millisecond precision, and never
// negative.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", max(d, 0).Seconds())
}
