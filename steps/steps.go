package steps

import (
	"context"
	"fmt"

	"github.com/cucumber/godog"
)

// InitializeScenario gives each scenario its own state, torn down when the
// scenario ends, and registers every step: each subject's file registers
// its own (registerServerSteps and so on), next to the functions that run
// them (go test ./steps -godog.definitions lists them all).
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

	// Each subject registers its own steps, from the file that defines
	// them, so that this index cannot point to the wrong file.
	registerBusySteps(sc)
	registerClientSteps(sc)
	registerTLSSteps(sc)
	registerProxySteps(sc)
	registerHAProxySteps(sc)
	registerFaultsSteps(sc)
	registerCrowdSteps(sc)
	registerSilentSteps(sc)
	registerEnvironmentSteps(sc)
	registerFortioSteps(sc)
	registerHoldingSteps(sc)
	registerInteropSteps(sc)
	registerTLSInteropSteps(sc)
	registerLimitsSteps(sc)
	registerProcessSteps(sc)
	registerOpsSteps(sc)
	registerPromptSteps(sc)
	registerServerSteps(sc)
	registerShutdownSteps(sc)
	registerStreamSteps(sc)
	registerUDPSteps(sc)
	registerGuardSteps(sc)
	registerDescriptorsSteps(sc)
	registerIdentitySteps(sc)
	registerRolloutSteps(sc)
	registerProbeSteps(sc)
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
