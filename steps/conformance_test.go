package steps

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/impl/udpecho"
	"github.com/echospec/echo/internal/testpeer"
	"github.com/echospec/echo/steps/articlebugs"
)

// conformance is the outcome of one run of the @rfc862 scenarios.
type conformance struct {
	passed, failed, skipped []string
	output                  string
}

// rfc862Run is how the tests here run the @rfc862 scenarios, as make
// conformance does: reported with format to out, four at a time.
func rfc862Run(format string, out io.Writer) godog.Options {
	return godog.Options{
		Format:      format,
		Output:      out,
		Paths:       []string{"../features"},
		Tags:        "@rfc862",
		Concurrency: 4,
		Strict:      true,
		NoColors:    true,
	}
}

// checkConformance runs the @rfc862 scenarios against tgt, as make
// conformance does, but apart from t's subtests, and says what passed,
// failed and skipped.
func checkConformance(t *testing.T, tgt Target) conformance {
	t.Helper()
	tgt.Mode = Conformance
	require.NoError(t, tgt.Check())
	var out bytes.Buffer
	_, results := runSuite(nil, rfc862Run("progress", &out), tgt)
	c := conformance{output: out.String()}
	for _, s := range results.list() {
		switch s.outcome {
		case Failed:
			c.failed = append(c.failed, s.name)
		case Skipped:
			c.skipped = append(c.skipped, s.name)
		case Passed:
			c.passed = append(c.passed, s.name)
		}
	}
	require.NotEmpty(t, results.list(), "no @rfc862 scenario ran")
	return c
}

// scenarioKey names a scenario the same way whether the name comes from
// a subtest ("A_b"), godog ("A b") or a JUnit report of an outline's
// example ("A b #2").
func scenarioKey(name string) string {
	if i := strings.LastIndex(name, " #"); i >= 0 {
		name = name[:i]
	}
	return strings.ReplaceAll(name, " ", "_")
}

// hasFailed tells whether the scenario called name failed, in any of its
// examples.
func (c conformance) hasFailed(name string) bool {
	for _, f := range c.failed {
		if scenarioKey(f) == scenarioKey(name) {
			return true
		}
	}
	return false
}

const (
	promptText  = "TCP: data comes back as it is received, not at a line end"
	promptLarge = "TCP: more than a line buffer holds comes back, not only the part that filled it"
	tcpText     = "TCP: text comes back byte for byte, then the server closes"
	udpPayload  = "UDP: a datagram's exact payload comes back"
	udpEmpty    = "UDP: an empty datagram gets an empty answer"
	udpLargest  = "UDP: the largest datagram comes back whole"
)

// TestConformanceFailsAgainstTheArticlesBugs is the negative proof: a spec
// that passes every server proves nothing. Each of the article's broken
// servers must fail, and on the scenario made to catch its bug.
func TestConformanceFailsAgainstTheArticlesBugs(t *testing.T) {
	catches := map[articlebugs.Bug][]string{
		articlebugs.StaleBuffer: {tcpText},
		articlebugs.DropNewline: {tcpText},
		articlebugs.PadDatagram: {udpPayload, udpEmpty, udpLargest},
	}
	for _, bug := range articlebugs.Bugs {
		t.Run(string(bug), func(t *testing.T) {
			var tgt Target
			if bug.UDP() {
				pc, err := net.ListenPacket("udp", "127.0.0.1:0")
				require.NoError(t, err)
				defer pc.Close()
				go articlebugs.Serve(bug, nil, pc)
				tgt.UDP = pc.LocalAddr().String()
			} else {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				defer l.Close()
				go articlebugs.Serve(bug, l, nil)
				tgt.TCP = l.Addr().String()
			}
			c := checkConformance(t, tgt)
			require.NotEmpty(t, c.failed, "the @rfc862 scenarios passed against the article's %s server:\n%s", bug, c.output)
			for _, name := range catches[bug] {
				assert.True(t, c.hasFailed(name), "%q, made to catch %s, passed; failed: %q", name, bug, c.failed)
			}
		})
	}
}

// TestOurServersConform runs the @rfc862 scenarios against our servers as
// if they were anyone's: the stream and fixed framings, the smallest
// buffers included, and a line server that holds no line (MaxLine 1).
func TestOurServersConform(t *testing.T) {
	for _, s := range []*tcpecho.Server{
		{},
		{Framing: tcpecho.FramingFixed},
		{Framing: tcpecho.FramingFixed, Size: 1},
		{Framing: tcpecho.FramingLine, MaxLine: 1},
	} {
		t.Run(fmt.Sprintf("%v size %d max-line %d", s.Framing, s.Size, s.MaxLine), func(t *testing.T) {
			c := checkConformance(t, ourServers(t, s))
			assert.Empty(t, c.failed, c.output)
			assert.Empty(t, c.skipped)
		})
	}
}

// TestALineServerIsNoRFC862Echo: the line framing holds bytes until a line
// end, so the scenarios that send none, leaving the connection open, fail
// against it, and say why; every other scenario passes.
func TestALineServerIsNoRFC862Echo(t *testing.T) {
	c := checkConformance(t, ourServers(t, &tcpecho.Server{Framing: tcpecho.FramingLine}))
	assert.ElementsMatch(t, []string{promptText, promptText, promptLarge}, c.failed, c.output)
	assert.Contains(t, c.output, "it waits for a line end, or for the client to finish sending, before it echoes")
}

// ourServers serves s and a UDP server on free loopback ports until the
// test ends, and returns their addresses as a conformance target.
func ourServers(t *testing.T, s *tcpecho.Server) Target {
	s.Logger = slog.New(slog.DiscardHandler)
	tcpAddr := testpeer.Serve(t, s)
	u := &udpecho.Server{Logger: s.Logger}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	go u.Serve(pc)
	t.Cleanup(func() { u.Close() })
	return Target{TCP: tcpAddr, UDP: pc.LocalAddr().String()}
}

// TestThirdPartyServersConform checks echo services we did not write:
// socat's, and xinetd's built-in one. Each tool that is missing skips its
// part and says so; CI installs both.
func TestThirdPartyServersConform(t *testing.T) {
	t.Run("socat TCP-LISTEN,fork EXEC:cat", func(t *testing.T) {
		s, addr, err := socatEcho("tcp")
		skipIfMissing(t, err)
		defer s.stop()
		c := checkConformance(t, Target{TCP: addr})
		assert.Empty(t, c.failed, c.output)
		assert.Len(t, c.skipped, 5, "the UDP scenarios, for want of a UDP address")
	})
	t.Run("xinetd built-in echo", func(t *testing.T) {
		s, addr, err := xinetdEcho(t.TempDir())
		skipIfMissing(t, err)
		defer s.stop()
		// xinetd cuts datagrams to 2048 bytes: everything else conforms.
		c := checkConformance(t, Target{TCP: addr, UDP: addr})
		assert.Equal(t, []string{udpLargest}, c.failed, c.output)
		c = checkConformance(t, Target{TCP: addr, UDP: addr, MaxDatagram: 2048})
		assert.Empty(t, c.failed, c.output)
	})
}

// skipIfMissing skips the test, saying why, when a tool is not installed,
// and fails it on any other error.
func skipIfMissing(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, errMissingTool) {
		t.Skipf("SKIPPED: %v", err)
	}
	require.NoError(t, err)
}
