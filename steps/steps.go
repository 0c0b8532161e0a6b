package steps

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/cucumber/godog"
)

// InitializeScenario registers every step and gives each scenario its own
// state, torn down when the scenario ends.
func InitializeScenario(sc *godog.ScenarioContext) {
	sc.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
		return context.WithValue(ctx, worldKey{}, newWorld(targetFrom(ctx))), nil
	})
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		if cerr := worldFrom(ctx).close(); cerr != nil && err == nil {
			return ctx, cerr
		}
		return ctx, nil
	})
	serverSteps(sc)
	crowdSteps(sc)
	shutdownSteps(sc)
	clientSteps(sc)
	udpSteps(sc)
	streamSteps(sc)
	interopSteps(sc)
	processSteps(sc)
	environmentSteps(sc)
	limitsSteps(sc)
	holdingSteps(sc)
	busySteps(sc)
}

// skipScenario skips the rest of the scenario and says why: in the test
// log, in godog's count of skipped steps, and to the Skips that the run's
// context carries, if any, so that the test runner reports a real skip. A
// scenario that cannot run here must never look as if it passed.
func skipScenario(ctx context.Context, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	t := godog.T(ctx)
	if skips, ok := ctx.Value(skipsKey{}).(*Skips); ok {
		// t.Name is the subtest's full name; keep the scenario's part.
		name := t.Name()
		if _, scenario, ok := strings.Cut(name, "/"); ok {
			name = scenario
		}
		skips.add(name, reason)
	}
	t.Skipf("SKIPPED: %s", reason)
	return nil
}

type skipsKey struct{}

// Skips collects the scenarios that skipped themselves and why.
type Skips struct {
	mu   sync.Mutex
	list []Skip
}

// Skip is one skipped scenario.
type Skip struct{ Scenario, Reason string }

// WithSkips returns a context for godog.Options.DefaultContext that makes
// skipping scenarios report to skips.
func WithSkips(ctx context.Context, skips *Skips) context.Context {
	return context.WithValue(ctx, skipsKey{}, skips)
}

func (s *Skips) add(scenario, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, Skip{scenario, reason})
}

// All returns the skipped scenarios so far.
func (s *Skips) All() []Skip {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Skip(nil), s.list...)
}
