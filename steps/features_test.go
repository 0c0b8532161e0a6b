package steps

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cucumber/godog"
	"go.uber.org/goleak"
)

// opts are godog's options, bound to -godog.* flags: for example
//
//	go test ./steps -godog.tags=@fixed
//	go test ./steps -godog.format=junit:report.xml
//	go test ./steps -godog.paths=../features/tcp_line_framing.feature
//	go test ./steps -run 'TestFeatures/Short_message'
var opts = godog.Options{
	Format:      "progress",
	Paths:       []string{"../features"},
	Concurrency: 8,
	Strict:      true,
	Randomize:   -1,
	NoColors:    true, // go test output is read in logs more than in terminals
	Output:      os.Stdout,
}

// target is what the scenarios run against, bound to -echo.* flags:
//
//	go test ./steps -echo.mode=process -echo.bin=../bin        (make e2e)
//	go test ./steps -echo.mode=conformance -echo.tcp=HOST:PORT -echo.udp=HOST:PORT -godog.tags=@rfc862
var target Target

func init() {
	// BindFlags, not BindCommandLineFlags: the latter binds to pflag, whose
	// long flags take two dashes, and go test users type -godog.tags.
	godog.BindFlags("godog.", flag.CommandLine, &opts)
	flag.Func("echo.mode", "what the scenarios run against: library (in-process, the default), process (the binaries in -echo.bin) or conformance (the service at -echo.tcp and -echo.udp)", func(s string) error {
		target.Mode = Mode(s)
		return nil
	})
	flag.StringVar(&target.Bin, "echo.bin", "", "process mode: the folder with tcpserver, tcpclient, udpserver and udpclient")
	flag.StringVar(&target.TCP, "echo.tcp", "", "conformance mode: HOST:PORT of the TCP echo service to check")
	flag.StringVar(&target.UDP, "echo.udp", "", "conformance mode: HOST:PORT of the UDP echo service to check")
	flag.IntVar(&target.MaxDatagram, "echo.max-datagram", 0, "the size of the largest datagram to check (default 65507, the most an IPv4 datagram holds); lower it only for a service documented to cut longer ones")
}

// lastWords are the lines TestMain prints when the tests are done: each
// run of the features ends with one that counts its scenarios, and so the
// output of make conformance does.
var lastWords []string

// TestMain fails the package's tests if any goroutine outlives them:
// every scenario must end all it started. After go test's verdict it
// prints each run's count of scenarios, the run's last word.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: goroutines outlived the tests: %v\n", err)
			code = 1
		}
	}
	for _, l := range lastWords {
		fmt.Println(l)
	}
	os.Exit(code)
}

// TestFeatures runs every scenario in ../features as a subtest, against
// the target the -echo.* flags name.
func TestFeatures(t *testing.T) {
	if err := target.Check(); err != nil {
		t.Fatal(err)
	}
	o := opts
	if target.Bin != "" {
		bin, err := filepath.Abs(target.Bin)
		if err != nil {
			t.Fatal(err)
		}
		target.Bin = bin
	}
	if o.Tags == "" && (target.Mode == "" || target.Mode == Library) {
		// What only a process has cannot be checked in-process.
		o.Tags = "~@process"
	}
	if target.Mode == Conformance && target.MaxDatagram != 0 && target.MaxDatagram != largestIPv4Datagram {
		t.Logf("checking datagrams of up to %d bytes only, as asked (-echo.max-datagram), not %d", target.MaxDatagram, largestIPv4Datagram)
	}
	status, results := runSuite(t, o, target)
	if o.ShowStepDefinitions {
		return // godog listed the steps and ran nothing: nothing failed
	}
	lastWords = append(lastWords, results.Count().Line())
	if status != 0 {
		t.Fatal("some scenarios failed; see above")
	}
	// And right after the suite, before other tests can muddy the water.
	goleak.VerifyNone(t)
}

// runSuite runs the features with o against tgt and returns godog's
// status and what became of each scenario. With t, each scenario is a
// subtest of t, and a skipped scenario a skipped subtest; with a nil t,
// the scenarios are no test's subtests (for a run whose failures are
// expected).
func runSuite(t *testing.T, o godog.Options, tgt Target) (int, *Results) {
	runMu.Lock()
	defer runMu.Unlock()
	results := newResults()
	running = results
	defer func() { running = nil }()

	o.TestingT = t
	o.DefaultContext = withResults(WithTarget(context.Background(), tgt), results)
	var stepByStep bool
	o.Format, stepByStep = formatsFor(o.Format)
	if stepByStep {
		// A format that prints every step as it runs reads in order only
		// if the scenarios take turns; go test -v interleaves the logs of
		// concurrent subtests with it otherwise.
		o.Concurrency = 1
	}
	suite := godog.TestSuite{
		Name:                "echo",
		ScenarioInitializer: InitializeScenario,
		Options:             &o,
	}
	status := suite.Run()
	results.finish()
	return status, results
}
