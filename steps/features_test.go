package steps

import (
	"context"
	"flag"
	"os"
	"testing"

	"github.com/cucumber/godog"
)

// opts are godog's options, bound to -godog.* flags: for example
//
//	go test ./steps -godog.tags=@fixed
//	go test ./steps -godog.format=junit:report.xml
//	go test ./steps -godog.paths=../features/tcp_line_framing.feature
//	go test ./steps -run 'TestFeatures/A_short_message'
var opts = godog.Options{
	Format:      "progress",
	Paths:       []string{"../features"},
	Concurrency: 8,
	Strict:      true,
	Randomize:   -1,
	NoColors:    true, // go test output is read in logs more than in terminals
	Output:      os.Stdout,
}

// BindFlags, not BindCommandLineFlags: the latter binds to pflag, whose
// long flags take two dashes, and go test users type -godog.tags.
func init() { godog.BindFlags("godog.", flag.CommandLine, &opts) }

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}

// TestFeatures runs every scenario in ../features as a subtest.
func TestFeatures(t *testing.T) {
	o := opts
	o.TestingT = t
	var skips Skips
	o.DefaultContext = WithSkips(context.Background(), &skips)
	suite := godog.TestSuite{
		Name:                "echo",
		ScenarioInitializer: InitializeScenario,
		Options:             &o,
	}
	status := suite.Run()
	// godog passes a scenario whose steps were skipped; report each as the
	// skip it is, so that go test -v and -json count it as one.
	for _, s := range skips.All() {
		t.Run(s.Scenario+" (skipped)", func(t *testing.T) { t.Skip(s.Reason) })
	}
	if status != 0 {
		t.Fatal("some scenarios failed; see above")
	}
}
