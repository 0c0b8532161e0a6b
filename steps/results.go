package steps

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	gherkin "github.com/cucumber/messages/go/v34"
)

// Outcome is what became of one scenario in a run.
type Outcome int

// The outcomes, told apart in every summary: godog's own counts a
// scenario whose steps were skipped as passed, and one that go test's
// -run left out as undefined.
const (
	// NotSelected: the run left it out (go test -run named others).
	NotSelected Outcome = iota
	// Passed: every step ran and passed.
	Passed
	// Failed: a step failed, or was undefined, pending or ambiguous.
	Failed
	// Skipped: the scenario could not run here and said why.
	Skipped
)

func (o Outcome) String() string {
	switch o {
	case Passed:
		return "passed"
	case Failed:
		return "failed"
	case Skipped:
		return "skipped"
	}
	return "not selected"
}

// scenarioResult is one scenario (one pickle: an outline's example row is
// a scenario of its own) and what became of it.
type scenarioResult struct {
	id      string
	name    string
	uri     string
	ran     bool // its Before hook ran: go test selected it
	outcome Outcome
	// why: for a skip, the reason the scenario gave; for a failure, the
	// first failing step and its error.
	why string
	// failKind is "failed", or "undefined", "pending" or "ambiguous" for a
	// step that could not run; JUnit tells failures from errors.
	failKind   string
	start, end time.Time
}

// Results collects what happened to every scenario of one run, from
// godog's formatter events (which list every scenario, selected or not)
// and from the scenarios' hooks (which see them start, end and skip).
type Results struct {
	mu        sync.Mutex
	started   time.Time
	ended     time.Time
	features  []featureResult
	scenarios map[string]*scenarioResult // by pickle ID
}

// featureResult is a feature file as the run met it.
type featureResult struct{ uri, name string }

func newResults() *Results {
	return &Results{started: time.Now(), scenarios: make(map[string]*scenarioResult)}
}

// scenario returns the record of the scenario with that pickle ID,
// making it on first sight. Callers hold r.mu.
func (r *Results) scenario(id string) *scenarioResult {
	s := r.scenarios[id]
	if s == nil {
		s = &scenarioResult{id: id}
		r.scenarios[id] = s
	}
	return s
}

func (r *Results) feature(uri, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.features {
		if f.uri == uri {
			return
		}
	}
	r.features = append(r.features, featureResult{uri, name})
}

func (r *Results) pickle(p *gherkin.Pickle) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.scenario(p.Id)
	s.name, s.uri = p.Name, p.Uri
}

// step records how one of a scenario's steps ended. A failure outranks a
// skip, which outranks a pass: godog skips the steps after a failure too.
func (r *Results) step(p *gherkin.Pickle, st *gherkin.PickleStep, status string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.scenario(p.Id)
	s.name, s.uri = p.Name, p.Uri
	switch status {
	case "passed":
		if s.outcome == NotSelected {
			s.outcome = Passed
		}
	case "skipped":
		if s.outcome != Failed {
			s.outcome = Skipped
		}
	default: // failed, undefined, pending, ambiguous
		if s.outcome != Failed {
			s.outcome, s.failKind = Failed, status
			s.why = "step " + strconv.Quote(st.Text) + ": " + status
			if err != nil {
				s.why += ": " + err.Error()
			}
		}
	}
}

// begin and end come from the scenario's hooks, so they time the
// scenario itself, not when godog got round to reporting it.
func (r *Results) begin(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.scenario(id)
	s.ran, s.start = true, time.Now()
}

func (r *Results) end(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scenario(id).end = time.Now()
}

// skip records why a scenario skipped itself; the first reason stands.
func (r *Results) skip(id, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.scenario(id); s.why == "" {
		s.why = reason
	}
}

func (r *Results) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = time.Now()
}

// list returns a copy of every scenario's record, each feature's in the
// order of its file (godog numbers pickles as it reads them).
func (r *Results) list() []scenarioResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]scenarioResult, 0, len(r.scenarios))
	for _, s := range r.scenarios {
		c := *s
		switch {
		case c.outcome == Skipped && c.why == "":
			c.why = "a step skipped the scenario"
		case c.outcome == Passed && !c.ran:
			// Cannot happen with godog's hooks; never call it a pass.
			c.outcome = NotSelected
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return pickleOrder(out[i].id, out[j].id) })
	return out
}

// pickleOrder orders godog's pickle IDs, which are counters, as numbers.
func pickleOrder(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA != nil || errB != nil {
		return a < b
	}
	return x < y
}

// Count is how many scenarios had each outcome, and why they skipped.
type Count struct {
	Passed, Failed, Skipped, NotSelected int
	// Reasons counts the skipped scenarios by the reason they gave.
	Reasons map[string]int
}

// Count tallies the run's scenarios by outcome.
func (r *Results) Count() Count {
	c := Count{Reasons: map[string]int{}}
	for _, s := range r.list() {
		switch s.outcome {
		case Passed:
			c.Passed++
		case Failed:
			c.Failed++
		case Skipped:
			c.Skipped++
			c.Reasons[s.why]++
		default:
			c.NotSelected++
		}
	}
	return c
}

// Line is the run's last word: "5 passed, 0 failed, 4 skipped (no UDP
// address)", with the scenarios that -run left out counted apart.
func (c Count) Line() string {
	line := fmt.Sprintf("%d passed, %d failed, %d skipped", c.Passed, c.Failed, c.Skipped)
	if len(c.Reasons) > 0 {
		line += " (" + c.reasons() + ")"
	}
	if c.NotSelected > 0 {
		line += fmt.Sprintf(", %d not selected", c.NotSelected)
	}
	return line
}

// reasons says why scenarios skipped: the reason alone when they all gave
// one, else each with its count, the most common first.
func (c Count) reasons() string {
	if len(c.Reasons) == 1 {
		for r := range c.Reasons {
			return r
		}
	}
	rs := make([]string, 0, len(c.Reasons))
	for r := range c.Reasons {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool {
		if c.Reasons[rs[i]] != c.Reasons[rs[j]] {
			return c.Reasons[rs[i]] > c.Reasons[rs[j]]
		}
		return rs[i] < rs[j]
	})
	for i, r := range rs {
		rs[i] = fmt.Sprintf("%d: %s", c.Reasons[r], r)
	}
	return strings.Join(rs, "; ")
}

// scenarioParts is the inside of godog's "N scenarios (…)" line, told
// apart as this project counts: non-zero outcomes only, as godog does.
func (c Count) scenarioParts() string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{c.Passed, "passed"}, {c.Failed, "failed"}, {c.Skipped, "skipped"}, {c.NotSelected, "not selected"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	return strings.Join(parts, ", ")
}

type resultsKey struct{}

// withResults returns a context for godog.Options.DefaultContext whose
// scenarios report to r.
func withResults(ctx context.Context, r *Results) context.Context {
	return context.WithValue(ctx, resultsKey{}, r)
}

func resultsFrom(ctx context.Context) *Results {
	r, _ := ctx.Value(resultsKey{}).(*Results)
	return r
}

type scenarioIDKey struct{}

func scenarioIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(scenarioIDKey{}).(string)
	return id
}
