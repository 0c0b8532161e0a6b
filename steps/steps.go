package steps

import (
	"context"

	"github.com/cucumber/godog"
)

// InitializeScenario registers every step and gives each scenario its own
// state, torn down when the scenario ends.
func InitializeScenario(sc *godog.ScenarioContext) {
	sc.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
		return context.WithValue(ctx, worldKey{}, newWorld()), nil
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
}
