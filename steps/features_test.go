package steps

import (
	"context"
	"flag"
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

// TestMain fails the package's tests if any goroutine outlives them:
// every scenario must end all it started.
func TestMain(m *testing.M) {
	flag.Parse()
	goleak.VerifyTestMain(m)
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
	if status := runSuite(t, o, target); status != 0 {
		t.Fatal("some scenarios failed; see above")
	}
	// And right after the suite, before other tests can muddy the water.
	goleak.VerifyNone(t)
}

// runSuite runs the features with o against tgt, each scenario a subtest
// of t, and returns godog's status.
func runSuite(t *testing.T, o godog.Options, tgt Target) int {
	o.TestingT = t
	var skips Skips
	o.DefaultContext = WithSkips(WithTarget(context.Background(), tgt), &skips)
	suite := godog.TestSuite{
		Name:                "echo",
		ScenarioInitializer: InitializeScenario,
		Options:             &o,
	}
	status := suite.Run()
	// godog passes a scenario whose steps were skipped; report each as the
	// skip it is, so that go test -v and -json count it as one.
	reasons := map[string]int{}
	for _, s := range skips.All() {
		t.Run(s.Scenario+" (skipped)", func(t *testing.T) { t.Skip(s.Reason) })
		reasons[s.Reason]++
	}
	// godog counts them as passed; say plainly that they did not run.
	for reason, n := range reasons {
		t.Logf("%d scenarios skipped: %s", n, reason)
	}
	return status
}
