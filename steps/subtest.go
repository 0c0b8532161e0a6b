package steps

import (
	"context"
	"reflect"
	"testing"

	"github.com/cucumber/godog"
)

// scenarioT returns the go test subtest that godog runs the scenario in,
// or nil when the run has none (Options.TestingT unset).
//
// godog v0.16 keeps that *testing.T in an unexported field of the value
// godog.T returns, and its Skip only marks godog's own step as skipped:
// go test goes on to report the subtest as passed. skipScenario needs the
// real subtest to report the skip, so it reads the field; if a godog
// release moves it, this returns nil and
// TestASkippedScenarioIsASkippedSubtest fails.
func scenarioT(ctx context.Context) *testing.T {
	v := reflect.ValueOf(godog.T(ctx))
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("t")
	if !f.IsValid() || f.Type() != reflect.TypeFor[*testing.T]() || f.IsNil() {
		return nil
	}
	return (*testing.T)(f.UnsafePointer())
}
