package echobench

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/internal/testpeer"
)

func TestParseTarget(t *testing.T) {
	for spec, want := range map[string]Target{
		"tcp://db:7":                     {Proto: TCP, Addr: "db:7"},
		"udp://echo.default.svc:7=allow": {Proto: UDP, Addr: "echo.default.svc:7", Expect: Allow},
		"tcp://[::1]:7007=deny":          {Proto: TCP, Addr: "[::1]:7007", Expect: Deny},
	} {
		got, err := ParseTarget(spec)
		require.NoError(t, err, spec)
		assert.Equal(t, want, got, spec)
	}
	for _, bad := range []string{"db:7", "http://db:7", "tcp://db", "tcp://db:0", "tcp://db:70000", "tcp://db:7=maybe", "tcp://db:7/x", "udp://:7"} {
		_, err := ParseTarget(bad)
		assert.ErrorIs(t, err, ErrBadTarget, bad)
	}
}

func TestContradicts(t *testing.T) {
	for _, tc := range []struct {
		expect, verdict string
		contradicts     bool
	}{
		{Allow, Echoed, false}, {Allow, Silent, true}, {Allow, Wrong, true},
		{Deny, Refused, false}, {Deny, Unreachable, false}, {Deny, Silent, false},
		{Deny, Echoed, true}, {Deny, Wrong, true}, {Deny, DNS, true},
		{"", Wrong, false},
	} {
		r := ProbeResult{Target: Target{Expect: tc.expect}, Verdict: tc.verdict}
		assert.Equal(t, tc.contradicts, r.Contradicts(), "%s %s", tc.expect, tc.verdict)
	}
}

// Our echo, a closed port and a silent one, over TCP and UDP, each come
// out as what they are.
func TestProbeVerdicts(t *testing.T) {
	tcp := testpeer.Serve(t, &tcpecho.Server{Logger: slog.New(slog.DiscardHandler)})
	closedTCP := testpeer.Refusing(t)
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer silent.Close()
	closedUDP, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	closedUDP.Close()
	targets := []Target{
		{Proto: TCP, Addr: tcp}, {Proto: TCP, Addr: closedTCP},
		{Proto: UDP, Addr: silent.LocalAddr().String()}, {Proto: UDP, Addr: closedUDP.LocalAddr().String()},
	}
	// The default timeout: a busy machine may hold an echo up 100 ms.
	results := Probe(context.Background(), targets, ProbeConfig{})
	var got []string
	for _, r := range results {
		got = append(got, r.Verdict)
	}
	assert.Equal(t, []string{Echoed, Refused, Silent, Refused}, got, "%+v", results)
}

// Every target is probed at once: 1,000 silent ones take about what one
// does (three tries of the timeout), not a thousand times that.
func TestAThousandTargetsAtOnce(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer silent.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := silent.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	targets := make([]Target, 1000)
	for i := range targets {
		targets[i] = Target{Proto: UDP, Addr: silent.LocalAddr().String()}
	}
	const timeout = 100 * time.Millisecond
	start := time.Now()
	results := Probe(context.Background(), targets, ProbeConfig{Timeout: timeout})
	took := time.Since(start)
	for _, r := range results {
		require.Equal(t, Silent, r.Verdict, r.Detail)
	}
	// One at a time would take 1000 x 3 x 100 ms = 300 s.
	assert.Less(t, took, 100*3*timeout, "1,000 targets took %v", took)
}
