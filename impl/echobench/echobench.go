// Package echobench measures echo services: how many round trips a
// second, how many megabytes a second, at what latency, with every echo
// checked byte for byte. It drives any echo server, ours or not, and holds
// the baseline servers that make bench compares ours with.
package echobench

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Modes and protocols.
const (
	PingPong = "pingpong" // each connection sends a message and waits for its echo
	Stream   = "stream"   // each connection writes Size bytes while reading them back
	TCP      = "tcp"
	UDP      = "udp"
)

// Defaults for the zero values of Config.
const (
	DefaultMessage  = 128       // bytes in a ping-pong message
	DefaultStream   = 256 << 20 // bytes a stream sends
	DefaultDuration = 5 * time.Second
	DefaultTimeout  = 5 * time.Second
)

// ErrEchoDiffers counts an echo that was not what was sent.
var ErrEchoDiffers = errors.New("echo differs from what was sent")

// ErrConfig is what Run's error wraps when the Config itself is wrong, as
// against the service failing: a command reports the one as a usage
// problem and the other as a run-time failure.
var ErrConfig = errors.New("echobench: bad configuration")

// configError is a Config problem; it is ErrConfig for errors.Is.
type configError string

func (e configError) Error() string        { return "echobench: " + string(e) }
func (e configError) Is(target error) bool { return target == ErrConfig }

// ErrNoService is what Run's error wraps when the service never answered
// at all, so that the run ended early rather than count failures.
var ErrNoService = errors.New("no echo service answered")

// Config says what to measure. Its zero value, with Addr set, is TCP
// ping-pong of 128-byte messages over one connection for five seconds.
type Config struct {
	Addr  string
	Proto string // TCP (default) or UDP
	Mode  string // PingPong (default), Stream, Idle or Watch; UDP has ping-pong and watch
	Conns int    // connections or sockets at once; 0 means 1
	// Size is a ping-pong message's size, or how much a stream sends.
	Size int
	// Line ends each message with '\n' (and a stream's every 128 bytes),
	// for line servers; otherwise messages hold no '\n' at all.
	Line bool
	// Duration is how long ping-pong runs, how long a stream may take,
	// and how long idle connections are held silent.
	Duration time.Duration
	// Timeout is how long one echo may take; a UDP datagram not back by
	// then counts as lost, an error, and the next is sent.
	Timeout time.Duration
	// TLS, if set, makes every TCP connection TLS; the handshake is not
	// counted in the latencies.
	TLS *tls.Config
	// ProxyHeader, 1 or 2, starts every TCP connection with a PROXY
	// protocol header of that version, as a load balancer would.
	ProxyHeader int
	// Rate, if set, runs TCP ping-pong open loop: this many messages a
	// second across all connections, each sent at its scheduled time
	// whether or not earlier echoes have come back (at most MaxInFlight
	// unanswered per connection; past that the sender waits, and the wait
	// counts). Latency is then measured from each message's intended send
	// time (Result.Latency) and from its actual send (Result.Uncorrected).
	// Without it, each connection waits for an echo before the next send
	// (closed loop).
	Rate float64
	// MaxInFlight bounds a connection's unanswered messages in open loop.
	// 0 means DefaultMaxInFlight.
	MaxInFlight int
	// Warmup runs before Duration and is left out of the results: its
	// echoes are checked but neither counted nor timed.
	Warmup time.Duration
	// Gap is, in a watch, the shortest silence in which a flow waits for an
	// echo that counts as a gap. 0 means four of a flow's send intervals,
	// and at least MinGap.
	Gap time.Duration
}

// DefaultMaxInFlight is how many messages one connection may have
// unanswered in open loop when Config.MaxInFlight is 0.
const DefaultMaxInFlight = 1024

// withDefaults fills in the zero values and checks what is left.
func (c Config) withDefaults() (Config, error) {
	c.Proto = cmp.Or(c.Proto, TCP)
	c.Mode = cmp.Or(c.Mode, PingPong)
	c.Conns = cmp.Or(c.Conns, 1)
	if c.Mode == Stream {
		c.Size = cmp.Or(c.Size, DefaultStream)
	}
	c.Size = cmp.Or(c.Size, DefaultMessage)
	c.Duration = cmp.Or(c.Duration, DefaultDuration)
	c.Timeout = cmp.Or(c.Timeout, DefaultTimeout)
	c.MaxInFlight = cmp.Or(c.MaxInFlight, DefaultMaxInFlight)
	return c, c.check()
}

// check says what is wrong with a Config whose defaults are filled in.
func (c Config) check() error {
	switch {
	case c.Addr == "":
		return configError("no address")
	case c.Proto != TCP && c.Proto != UDP:
		return configError(fmt.Sprintf("protocol %q is neither tcp nor udp", c.Proto))
	case !slices.Contains([]string{PingPong, Stream, Idle, Watch}, c.Mode):
		return configError(fmt.Sprintf("mode %q is none of pingpong, stream, idle and watch", c.Mode))
	case c.Conns < 0 || c.Size < 1 || c.Duration < 0 || c.Timeout < 0:
		return configError("connections, size, duration and timeout must be positive")
	case c.ProxyHeader < 0 || c.ProxyHeader > 2:
		return configError(fmt.Sprintf("PROXY header version %d is neither 1 nor 2", c.ProxyHeader))
	}
	if err := c.checkWatch(); err != nil {
		return err
	}
	if c.Proto == UDP {
		return c.checkUDP()
	}
	return c.checkOpenLoop()
}

// checkWatch says what a watch cannot do.
func (c Config) checkWatch() error {
	switch {
	case c.Mode != Watch:
		return nil
	case c.Size < minWatchSize:
		return configError(fmt.Sprintf("a watch's messages carry their flow and number: -size must be at least %d", minWatchSize))
	case c.Warmup > 0:
		return configError("a watch has no warm-up: every second of it counts")
	case c.Gap < 0:
		return configError("the gap must not be negative")
	}
	return nil
}

// checkOpenLoop says what is wrong with a rate or a warm-up.
func (c Config) checkOpenLoop() error {
	switch {
	case c.Rate < 0 || c.Warmup < 0 || c.MaxInFlight < 0:
		return configError("rate, warmup and messages in flight must not be negative")
	case c.Rate > 0 && c.Mode != PingPong && c.Mode != Watch:
		return configError("a rate is for ping-pong and watch")
	case c.Warmup > 0 && c.Mode != PingPong:
		return configError("a warm-up is for ping-pong: a stream sends its bytes once")
	}
	return nil
}

// checkUDP says what a UDP run cannot do.
func (c Config) checkUDP() error {
	switch {
	case c.Mode == Stream:
		return configError("UDP has no streams; use pingpong")
	case c.Mode == Idle:
		return configError("UDP has no connections to hold; use pingpong")
	case c.TLS != nil || c.ProxyHeader != 0:
		return configError("TLS and PROXY headers are for TCP")
	case c.Rate != 0 && c.Mode != Watch:
		return configError("a rate is for TCP ping-pong and for watch")
	case c.Size > 65507:
		return configError(fmt.Sprintf("a datagram of %d bytes is more than IPv4 carries (65507)", c.Size))
	}
	return nil
}

// Result is what a run measured.
type Result struct {
	Config     Config
	Elapsed    time.Duration
	RoundTrips int64 // echoes back and checked (ping-pong; none in a stream)
	Bytes      int64 // bytes echoed and checked
	Errors     int64 // echoes that differed, were lost or failed
	FirstError error
	// Latency is the round trips' latency, in microseconds (ping-pong):
	// in open loop from each message's intended send time, so that a
	// stall counts for every message it held back.
	Latency *hdrhistogram.Histogram
	// Uncorrected is, in open loop, the latency from each message's actual
	// send: what a closed loop would report, which leaves out the time a
	// message waited to be sent. Nil in closed loop.
	Uncorrected *hdrhistogram.Histogram
	// Messages is how many messages were sent, warm-up left out (open
	// loop).
	Messages int64
	// Sent is how many bytes the streams wrote, and SendElapsed how long
	// the slowest of them took to write its last (stream).
	Sent        int64
	SendElapsed time.Duration
	// FirstEcho is, for each stream, the time from its first write to its
	// first echoed byte, in microseconds (stream).
	FirstEcho *hdrhistogram.Histogram
}

// RoundTripsPerSec is the rate of checked round trips.
func (r Result) RoundTripsPerSec() float64 { return float64(r.RoundTrips) / r.Elapsed.Seconds() }

// MBPerSec is the rate of checked echoed bytes, in megabytes (10^6) a
// second.
func (r Result) MBPerSec() float64 { return float64(r.Bytes) / 1e6 / r.Elapsed.Seconds() }

// SentMBPerSec is the rate at which the streams wrote, in megabytes (10^6)
// a second: what the service took in, as MBPerSec is what it gave back.
func (r Result) SentMBPerSec() float64 {
	if r.SendElapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / 1e6 / r.SendElapsed.Seconds()
}

// Run measures the echo service cfg names, calling progress, if set, about
// once a second with the figures so far.
func Run(ctx context.Context, cfg Config, progress func(Result)) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	switch cfg.Mode {
	case Idle:
		return runIdle(ctx, cfg)
	case Watch:
		return Result{}, configError("a watch reports through RunWatch")
	}
	run := &running{cfg: cfg}
	if progress != nil {
		run.live = &liveLatency{h: newHistogram()}
	}
	workers, err := run.dialAll(ctx)
	if err != nil {
		return Result{}, err
	}

	ctx, cancel := context.WithTimeout(ctx, cfg.Warmup+cfg.Duration)
	defer cancel()
	ctx, run.abort = context.WithCancelCause(ctx)
	// Histograms are kept per shard of connections, not per connection:
	// one takes some 150 KB, and a run may have tens of thousands.
	shards := make([]*shard, min(len(workers), maxShards))
	for i := range shards {
		shards[i] = newShard()
	}
	var wg sync.WaitGroup
	start := time.Now()
	stopProgress := run.report(ctx, start, progress)
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.close()
			w.run(ctx, run, measures{shard: shards[i%len(shards)], from: start.Add(cfg.Warmup), live: run.live})
		}()
	}
	wg.Wait()
	stopProgress()
	if cause := context.Cause(ctx); errors.Is(cause, ErrNoService) {
		return Result{}, cause
	}

	res := run.result(time.Since(start), shards)
	return res, nil
}

// dialAll opens every connection of the run, or none.
func (r *running) dialAll(ctx context.Context) ([]worker, error) {
	workers := make([]worker, r.cfg.Conns)
	for i := range workers {
		w, err := r.dial(ctx, i)
		if err != nil {
			for _, w := range workers[:i] {
				w.close()
			}
			return nil, err
		}
		workers[i] = w
	}
	return workers, nil
}

// result is the run's figures after elapsed: its counters and the shards'
// histograms merged; a stream that did not come back whole is an error.
func (r *running) result(elapsed time.Duration, shards []*shard) Result {
	cfg := r.cfg
	res := r.snapshot(elapsed)
	res.Latency, res.FirstEcho = newHistogram(), newHistogram()
	if cfg.Rate > 0 {
		res.Uncorrected = newHistogram()
	}
	for _, sh := range shards {
		res.Latency.Merge(sh.latency)
		res.FirstEcho.Merge(sh.firstEcho)
		if res.Uncorrected != nil {
			res.Uncorrected.Merge(sh.uncorrected)
		}
	}
	if cfg.Mode == Stream && res.Bytes < int64(cfg.Size)*int64(cfg.Conns) && res.FirstError == nil {
		res.Errors++
		res.FirstError = fmt.Errorf("streams not back within %v: %d of %d bytes", cfg.Duration, res.Bytes, int64(cfg.Size)*int64(cfg.Conns))
	}
	return res
}

// NewHistogram returns a latency histogram as a run keeps them: 1 µs to a
// minute, three significant digits.
func NewHistogram() *hdrhistogram.Histogram { return newHistogram() }

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
}

// running is one run's shared counters.
type running struct {
	cfg        Config
	abort      context.CancelCauseFunc // ends the run early, with why
	roundTrips atomic.Int64
	messages   atomic.Int64
	bytes      atomic.Int64
	sent       atomic.Int64
	errors     atomic.Int64
	mu         sync.Mutex
	first      error
	sendTook   time.Duration // the longest a stream took to write
	live       *liveLatency  // the latencies so far, for progress; nil without
}

// sendDone records how long a stream took to write all it wrote.
func (r *running) sendDone(took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sendTook = max(r.sendTook, took)
}

func (r *running) fail(err error) {
	r.errors.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.first == nil {
		r.first = err
	}
}

func (r *running) snapshot(elapsed time.Duration) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Result{Config: r.cfg, Elapsed: elapsed, RoundTrips: r.roundTrips.Load(), Bytes: r.bytes.Load(), Errors: r.errors.Load(), FirstError: r.first,
		Sent: r.sent.Load(), SendElapsed: r.sendTook, Messages: r.messages.Load()}
}

// report calls progress every second until ctx ends or stop is called.
func (r *running) report(ctx context.Context, start time.Time, progress func(Result)) (stop func()) {
	if progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				snap := r.snapshot(time.Since(start))
				snap.Latency = r.live.copy()
				progress(snap)
			case <-ctx.Done():
				return
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-ended }
}

// worker is one connection or socket of a run.
type worker interface {
	run(ctx context.Context, r *running, m measures)
	close()
}

// maxShards is how many sets of histograms a run keeps at most: enough
// that connections on different CPUs seldom record into the same one.
const maxShards = 64

// shard is the histograms a share of a run's connections record into,
// merged when the run ends.
type shard struct {
	mu          sync.Mutex
	latency     *hdrhistogram.Histogram // each round trip (ping-pong); corrected in open loop
	firstEcho   *hdrhistogram.Histogram // time to the first echoed byte (stream)
	uncorrected *hdrhistogram.Histogram // each round trip from its actual send (open loop)
}

func newShard() *shard {
	return &shard{latency: newHistogram(), firstEcho: newHistogram(), uncorrected: newHistogram()}
}

// measures is where one worker records.
type measures struct {
	shard *shard
	live  *liveLatency // the latencies, readable while the run goes on, if progress is wanted
	from  time.Time    // the end of the warm-up: nothing earlier counts
}

func (r *running) dial(ctx context.Context, i int) (worker, error) {
	switch {
	case r.cfg.Proto == UDP:
		return dialUDP(ctx, r.cfg, i)
	case r.cfg.Mode == Stream:
		return dialStream(ctx, r.cfg, i)
	case r.cfg.Rate > 0:
		return dialOpenLoop(ctx, r.cfg, i)
	}
	return dialPingPong(ctx, r.cfg, i)
}

// message returns connection i's message: size bytes unique to it, with no
// '\n' but the last byte when line is set.
func message(i, size int, line bool) []byte {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	msg := make([]byte, size)
	for j := range msg {
		msg[j] = letters[(i*7+j)%len(letters)]
	}
	if line {
		msg[size-1] = '\n'
	}
	return msg
}

// liveLatency is a run's latencies so far, for a progress report: each
// connection records into it as well, under a lock that only the
// once-a-second report contends for. Without progress there is none, and
// a round trip pays nothing for it.
type liveLatency struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

func (l *liveLatency) record(us int64) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.h.RecordValue(us)
	l.mu.Unlock()
}

// copy returns the latencies so far.
func (l *liveLatency) copy() *hdrhistogram.Histogram {
	h := newHistogram()
	l.mu.Lock()
	defer l.mu.Unlock()
	h.Merge(l.h)
	return h
}

// recordLatency records one round trip's latency, in microseconds.
func (m measures) recordLatency(us int64) {
	us = max(1, us)
	m.shard.mu.Lock()
	m.shard.latency.RecordValue(us)
	m.shard.mu.Unlock()
	m.live.record(us)
}

// recordUncorrected records one round trip's latency from its actual
// send, in microseconds.
func (m measures) recordUncorrected(us int64) {
	m.shard.mu.Lock()
	m.shard.uncorrected.RecordValue(max(1, us))
	m.shard.mu.Unlock()
}

// recordFirstEcho records the time to a stream's first echoed byte, in
// microseconds.
func (m measures) recordFirstEcho(us int64) {
	m.shard.mu.Lock()
	m.shard.firstEcho.RecordValue(max(1, us))
	m.shard.mu.Unlock()
}
