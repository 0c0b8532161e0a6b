package steps

import (
	"context"
	"fmt"

	"github.com/cucumber/godog"
)

// InitializeScenario registers every step and gives each scenario its own
// state, torn down when the scenario ends.
func InitializeScenario(sc *godog.ScenarioContext) {
	sc.Before(func(ctx context.Context, s *godog.Scenario) (context.Context, error) {
		if r := resultsFrom(ctx); r != nil {
			r.begin(s.Id)
		}
		ctx = context.WithValue(ctx, scenarioIDKey{}, s.Id)
		return context.WithValue(ctx, worldKey{}, newWorld(targetFrom(ctx))), nil
	})
	sc.After(func(ctx context.Context, s *godog.Scenario, err error) (context.Context, error) {
		cerr := worldFrom(ctx).close()
		if r := resultsFrom(ctx); r != nil {
			r.end(s.Id)
		}
		if cerr != nil && err == nil {
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
	promptSteps(sc)
	interopSteps(sc)
	fortioSteps(sc)
	processSteps(sc)
	environmentSteps(sc)
	limitsSteps(sc)
	holdingSteps(sc)
	busySteps(sc)
}

// skipScenario skips the rest of the scenario and says why: in the test
// log, in the run's Results (so that every summary counts a skip, not a
// pass), to godog (the error it returns, godog.ErrSkip, which callers
// pass on, marks the step and the rest as skipped) and to go test, whose
// subtest for the scenario ends as skipped once godog is done with it. A
// scenario that cannot run here must never look as if it passed.
func skipScenario(ctx context.Context, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	if r := resultsFrom(ctx); r != nil {
		r.skip(scenarioIDFrom(ctx), reason)
	}
	if t := scenarioT(ctx); t != nil {
		// Skip ends the goroutine it is called on, which here runs
		// godog's steps and hooks; from a cleanup, it ends nothing godog
		// still needs.
		t.Cleanup(func() { t.Skip("SKIPPED: " + reason) })
	}
	return fmt.Errorf("%w: %s", godog.ErrSkip, reason)
}
