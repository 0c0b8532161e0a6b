package echobench

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Verdicts of a probe: what came of sending a target a message.
const (
	Echoed      = "echoed"      // the exact bytes came back: allowed, and an echo service answered
	Refused     = "refused"     // a TCP reset, or ICMP port unreachable: rejected, or nothing listens
	Unreachable = "unreachable" // ICMP host or network unreachable, or no route
	Silent      = "silent"      // nothing within the timeout (and the retries): dropped, or no one there
	Wrong       = "wrong"       // an answer that is not the echo: another service answered
	DNS         = "dns"         // the name did not resolve
)

// Expectations a target may carry.
const (
	Allow = "allow" // wants Echoed
	Deny  = "deny"  // accepts Refused, Unreachable or Silent
)

// Defaults of a probe.
const (
	DefaultProbeTimeout     = time.Second
	DefaultProbeRetries     = 2
	DefaultProbeConcurrency = 1000
)

// ErrBadTarget is what ParseTarget's error wraps.
var ErrBadTarget = errors.New("bad target")

// Target is one thing to probe: a protocol, an address and, if given,
// what is expected of it.
type Target struct {
	Proto  string // TCP or UDP
	Addr   string // host:port
	Expect string // Allow, Deny or ""
}

func (t Target) String() string { return t.Proto + "://" + t.Addr }

// ParseTarget reads tcp://HOST:PORT or udp://HOST:PORT, optionally
// followed by =allow or =deny.
func ParseTarget(s string) (Target, error) {
	var t Target
	spec := s
	if i := strings.LastIndexByte(spec, '='); i >= 0 {
		spec, t.Expect = spec[:i], spec[i+1:]
		if t.Expect != Allow && t.Expect != Deny {
			return t, fmt.Errorf("%w %q: the expectation after = is allow or deny, not %q", ErrBadTarget, s, t.Expect)
		}
	}
	u, err := url.Parse(spec)
	if err != nil {
		return t, fmt.Errorf("%w %q: %w", ErrBadTarget, s, err)
	}
	if u.Scheme != TCP && u.Scheme != UDP {
		return t, fmt.Errorf("%w %q: it begins tcp:// or udp://", ErrBadTarget, s)
	}
	if u.Path != "" || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return t, fmt.Errorf("%w %q: only HOST:PORT follows %s://", ErrBadTarget, s, u.Scheme)
	}
	port, err := strconv.Atoi(u.Port())
	if u.Hostname() == "" || err != nil || port < 1 || port > 65535 {
		return t, fmt.Errorf("%w %q: HOST:PORT, with a port from 1 to 65535", ErrBadTarget, s)
	}
	t.Proto, t.Addr = u.Scheme, u.Host
	return t, nil
}

// ProbeConfig says how to probe. Its zero value is DefaultProbeTimeout,
// DefaultProbeRetries and DefaultProbeConcurrency.
type ProbeConfig struct {
	// Timeout is how long each try waits: for the connection and the
	// echo over TCP, for each datagram's echo over UDP.
	Timeout time.Duration
	// Retries is how many more datagrams a UDP target gets when one
	// brings nothing back, so that one lost datagram is not a drop. -1
	// means none.
	Retries int
	// Concurrency is how many targets are probed at once.
	Concurrency int
	// Resolver resolves names; nil is net.DefaultResolver.
	Resolver *net.Resolver
}

// ProbeResult is what came of probing one target.
type ProbeResult struct {
	Target  Target
	Verdict string
	Detail  string        // what was seen
	Took    time.Duration // from the first try to the verdict
}

// ProbeLine is a result as echobench probe -json writes it, one object a
// target.
type ProbeLine struct {
	Target  string  `json:"target"`
	Verdict string  `json:"verdict"`
	Expect  string  `json:"expect,omitempty"`
	Detail  string  `json:"detail"`
	MS      float64 `json:"ms"`
}

// Line is the result as -json writes it.
func (r ProbeResult) Line() ProbeLine {
	return ProbeLine{Target: r.Target.String(), Verdict: r.Verdict, Expect: r.Target.Expect, Detail: r.Detail, MS: float64(r.Took.Microseconds()) / 1000}
}

// Contradicts tells whether the verdict contradicts the target's
// expectation: allow wants Echoed; deny accepts Refused, Unreachable or
// Silent.
func (r ProbeResult) Contradicts() bool {
	switch r.Target.Expect {
	case Allow:
		return r.Verdict != Echoed
	case Deny:
		return r.Verdict != Refused && r.Verdict != Unreachable && r.Verdict != Silent
	}
	return false
}

// ErrContradicted is what Contradictions' error wraps.
var ErrContradicted = errors.New("verdicts contradict their expectations")

// Contradictions says which results contradict their expectations, as
// echobench probe's exit status 1 does, or nil.
func Contradictions(results []ProbeResult) error {
	var wrong []string
	for _, r := range results {
		if r.Contradicts() {
			wrong = append(wrong, fmt.Sprintf("%s wants %s, is %s", r.Target, r.Target.Expect, r.Verdict))
		}
	}
	if len(wrong) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d of %d: %s", ErrContradicted, len(wrong), len(results), strings.Join(wrong, "; "))
}

// Probe probes every target, cfg.Concurrency at once, and returns their
// results in the targets' order.
func Probe(ctx context.Context, targets []Target, cfg ProbeConfig) []ProbeResult {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultProbeTimeout
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = DefaultProbeRetries
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultProbeConcurrency
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	results := make([]ProbeResult, len(targets))
	slots := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	for i, t := range targets {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			results[i] = ProbeResult{Target: t, Verdict: Silent, Detail: "not probed: " + context.Cause(ctx).Error()}
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			start := time.Now()
			verdict, detail := probeOne(ctx, t, cfg)
			results[i] = ProbeResult{Target: t, Verdict: verdict, Detail: detail, Took: time.Since(start)}
		}()
	}
	wg.Wait()
	return results
}

// probeOne probes one target: resolves its name, then sends a message of
// its own and says what came of it.
func probeOne(ctx context.Context, t Target, cfg ProbeConfig) (verdict, detail string) {
	host, port, _ := net.SplitHostPort(t.Addr)
	rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	ips, err := cfg.Resolver.LookupIPAddr(rctx, host)
	cancel()
	if err != nil {
		return DNS, err.Error()
	}
	addr := net.JoinHostPort(ips[0].IP.String(), port)
	msg := probeMessage()
	if t.Proto == UDP {
		return probeUDP(ctx, addr, msg, cfg)
	}
	return probeTCP(ctx, addr, msg, cfg)
}

// probeMessage is a probe's message: a line no other probe sends.
func probeMessage() []byte {
	var nonce [12]byte
	rand.Read(nonce[:])
	return fmt.Appendf(nil, "echobench probe %x\n", nonce)
}

// probeTCP connects and sends msg: a refusal or an unreachable host is
// the verdict; a connection that brings back anything but msg is another
// service.
func probeTCP(ctx context.Context, addr string, msg []byte, cfg ProbeConfig) (verdict, detail string) {
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	if err != nil {
		return judgeError(err, "connect", start)
	}
	defer c.Close()
	connected := time.Since(start)
	c.SetDeadline(time.Now().Add(cfg.Timeout))
	if _, err := c.Write(msg); err != nil {
		return Wrong, fmt.Sprintf("connected in %v, then the send failed: %v", round(connected), err)
	}
	got, err := readEcho(c, len(msg), cfg.Timeout)
	switch {
	case err == nil && bytes.Equal(got, msg):
		return Echoed, fmt.Sprintf("%d bytes back in %v", len(got), round(time.Since(start)))
	case len(got) > 0:
		return Wrong, fmt.Sprintf("connected, but %q came back, not the %d bytes sent", describeBytes(got), len(msg))
	case errors.Is(err, os.ErrDeadlineExceeded):
		return Wrong, fmt.Sprintf("connected in %v, but nothing came back within %v: a service that is not an echo", round(connected), cfg.Timeout)
	}
	return Wrong, fmt.Sprintf("connected in %v, then %v before any answer: a service that is not an echo", round(connected), describeEnd(err))
}

// readEcho reads up to n bytes from c. If nothing has come by half the
// timeout, it ends its side of the stream, as a client that is done
// sending does: a service that answers only at the end of its input
// (such as tr behind socat) then answers, and is told from an echo.
func readEcho(c net.Conn, n int, timeout time.Duration) ([]byte, error) {
	got := make([]byte, n)
	c.SetReadDeadline(time.Now().Add(timeout / 2))
	k, err := io.ReadFull(c, got)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return got[:k], err
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok && k == 0 {
		cw.CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(timeout / 2))
	m, err := io.ReadFull(c, got[k:])
	return got[:k+m], err
}

// probeUDP sends msg up to 1+Retries times, each waiting the timeout: an
// echo, an ICMP error (which a connected socket reads as an error) or
// another answer is the verdict; nothing at all is silence.
func probeUDP(ctx context.Context, addr string, msg []byte, cfg ProbeConfig) (verdict, detail string) {
	start := time.Now()
	c, err := (&net.Dialer{Control: recvErrors}).DialContext(ctx, "udp", addr)
	if err != nil {
		return judgeError(err, "socket", start)
	}
	defer c.Close()
	buf := make([]byte, 65536)
	tries := 1 + cfg.Retries
	for try := 1; try <= tries; try++ {
		if _, err := c.Write(msg); err != nil {
			return judgeError(err, "send", start)
		}
		c.SetReadDeadline(time.Now().Add(cfg.Timeout))
		n, err := c.Read(buf)
		switch {
		case err == nil && bytes.Equal(buf[:n], msg):
			return Echoed, fmt.Sprintf("%d bytes back in %v (try %d of %d)", n, round(time.Since(start)), try, tries)
		case err == nil:
			return Wrong, fmt.Sprintf("%q came back, not the %d bytes sent", describeBytes(buf[:n]), len(msg))
		case errors.Is(err, os.ErrDeadlineExceeded):
			continue
		case ctx.Err() != nil:
			return Silent, "not finished: " + context.Cause(ctx).Error()
		}
		return judgeError(err, "answer", start)
	}
	return Silent, fmt.Sprintf("nothing back to %d datagrams, %v each", tries, cfg.Timeout)
}

// judgeError is the verdict an error of step gives.
func judgeError(err error, step string, start time.Time) (verdict, detail string) {
	took := round(time.Since(start))
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return DNS, dnsErr.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused, fmt.Sprintf("%s refused after %v", step, took)
	case errors.Is(err, syscall.ECONNRESET):
		return Refused, fmt.Sprintf("%s reset after %v", step, took)
	case errors.Is(err, syscall.EHOSTUNREACH):
		return Unreachable, fmt.Sprintf("%s: host unreachable after %v", step, took)
	case errors.Is(err, syscall.ENETUNREACH):
		return Unreachable, fmt.Sprintf("%s: network unreachable after %v", step, took)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return Silent, fmt.Sprintf("%s: nothing within %v", step, took)
	}
	return Unreachable, fmt.Sprintf("%s: %v", step, err)
}

func describeEnd(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection"
	case errors.Is(err, syscall.ECONNRESET):
		return "the server reset the connection"
	}
	return err.Error()
}

func describeBytes(b []byte) []byte { return b[:min(len(b), 40)] }

func round(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(100 * time.Microsecond)
}

// FormatTook is a probe's time as a table shows it: milliseconds, to a
// tenth.
func FormatTook(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
