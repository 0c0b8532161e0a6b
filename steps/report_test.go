package steps

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	junitparser "github.com/joshdk/go-junit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
)

// TestJUnitReportOfARealRun runs the @rfc862 scenarios against our TCP
// server alone, so that the UDP ones skip, writes the JUnit report that
// -godog.format=junit:FILE writes, and reads it back with a JUnit parser
// that is not the one that wrote it, as a CI server would.
func TestJUnitReportOfARealRun(t *testing.T) {
	tgt := ourServers(t, &tcpecho.Server{})
	tgt.Mode, tgt.UDP = Conformance, "" // TCP only: the UDP scenarios skip

	report := filepath.Join(t.TempDir(), "report.xml")
	status, results := runSuite(nil, rfc862Run("junit:"+report, &bytes.Buffer{}), tgt)
	require.Zero(t, status)
	count := results.Count()
	require.Equal(t, 5, count.Skipped, "the UDP scenarios, for want of a UDP address")
	require.Positive(t, count.Passed)

	suites, err := junitparser.IngestFile(report)
	require.NoError(t, err)
	raw, err := os.ReadFile(report)
	require.NoError(t, err)
	assert.NotRegexp(t, `time="-`, string(raw))

	var passed, skipped int
	names := map[string]bool{}
	for _, suite := range suites {
		for _, tc := range suite.Tests {
			assert.False(t, names[suite.Name+"/"+tc.Name], "two test cases called %q", tc.Name)
			names[suite.Name+"/"+tc.Name] = true
			assert.GreaterOrEqual(t, tc.Duration, time.Duration(0), "time of %q", tc.Name)
			assert.NotEmpty(t, tc.Properties["time"], "%q has no time", tc.Name)
			switch tc.Status {
			case junitparser.StatusPassed:
				passed++
			case junitparser.StatusSkipped:
				skipped++
				assert.Equal(t, "no UDP address", tc.Message, "why %q skipped", tc.Name)
				assert.True(t, strings.HasPrefix(tc.Name, "UDP:"), "%q skipped", tc.Name)
			default:
				t.Errorf("%q: %s %s", tc.Name, tc.Status, tc.Message)
			}
		}
	}
	assert.Equal(t, count.Passed, passed, "passed test cases")
	assert.Equal(t, 5, skipped, "skipped test cases")
	assert.Len(t, names, count.Passed+count.Skipped, "one test case per scenario")
}

// TestASkippedScenarioIsASkippedSubtest runs this test binary again on one
// scenario that cannot run in-process, and reads what go test and godog
// said of it: a skip in each summary, and the rest not selected.
func TestASkippedScenarioIsASkippedSubtest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary again")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestFeatures$/^SIGTERM_stops_tcpserver", "-test.v",
		"-godog.tags=@process", "-godog.format=progress")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	assert.Contains(t, string(out), "--- SKIP: TestFeatures/SIGTERM_stops_tcpserver_with_exit_status_0", "go test's verdict")
	assert.Contains(t, string(out), "SKIPPED: this scenario needs the binaries: make e2e", "the reason, in the subtest's log")
	assert.NotContains(t, string(out), "--- PASS: TestFeatures/", "a scenario that did not run, passed")
	assert.Regexp(t, `(?m)^\d+ scenarios \(1 skipped, \d+ not selected\)$`, string(out), "godog's summary")

	var last string
	for sc := bufio.NewScanner(bytes.NewReader(out)); sc.Scan(); {
		if sc.Text() != "" {
			last = sc.Text()
		}
	}
	assert.Regexp(t, `^0 passed, 0 failed, 1 skipped \(this scenario needs the binaries: make e2e\), \d+ not selected$`, last, "the run's last word")
}

// TestTheLastWord checks how a run's count reads.
func TestTheLastWord(t *testing.T) {
	for _, c := range []struct {
		count Count
		want  string
	}{
		{Count{Passed: 5, Skipped: 4, Reasons: map[string]int{"no UDP address": 4}}, "5 passed, 0 failed, 4 skipped (no UDP address)"},
		{Count{Passed: 90}, "90 passed, 0 failed, 0 skipped"},
		{Count{Passed: 2, NotSelected: 88}, "2 passed, 0 failed, 0 skipped, 88 not selected"},
		{Count{Failed: 1, Skipped: 3, Reasons: map[string]int{"socat is not installed": 1, "no UDP address": 2}}, "0 passed, 1 failed, 3 skipped (2: no UDP address; 1: socat is not installed)"},
	} {
		assert.Equal(t, c.want, c.count.Line())
	}
}
