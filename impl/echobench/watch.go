package echobench

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Watch is the mode that watches a service through a change (a rolling
// restart, a drained node, a reloaded balancer): Conns flows send
// numbered messages at Rate in all for Duration, every echo checked, and
// the run reports, each second and in all, what was sent, echoed, late,
// lost, out of order and duplicated, each flow's gaps with their causes,
// its reconnects, and which backend answered (see RunWatch).
const Watch = "watch"

// Defaults of a watch.
const (
	// DefaultWatchRate is a watch's messages a second per flow when
	// Config.Rate is 0.
	DefaultWatchRate = 10
	// MinGap is the shortest silence a watch counts as a gap when
	// Config.Gap is 0: at least this, and at least four of a flow's send
	// intervals, so that a flow's ordinary pace is never a gap.
	MinGap = 200 * time.Millisecond
	// probeEvery is how often a UDP flow asks which backend answers it.
	probeEvery = time.Second
	// maxOutstanding is the most unanswered messages a flow remembers;
	// past it the oldest is counted lost at once, and an echo of it that
	// comes after all counts as duplicated.
	maxOutstanding = 1 << 14
)

// Causes of a gap: what a flow saw during its silence.
const (
	CauseTimeout      = "timeout"              // nothing came back, and nothing said why
	CauseReset        = "reset"                // the connection was reset
	CauseRefused      = "refused"              // nothing listened: a TCP reset to the connect, or ICMP port unreachable
	CauseClosed       = "closed by the server" // the server (or a balancer) ended the connection
	CauseUnreachable  = "unreachable"          // ICMP host or network unreachable, or no route
	CauseWrong        = "wrong echo"           // an echo that was not what was sent
	CauseOther        = "error"                // anything else; the run's errors say what
	unidentifiedShown = "(no identity)"
)

// ErrWrongEcho is what a watch's FirstWrong wraps: an echo that was not
// what was sent, which no change in a service excuses.
var ErrWrongEcho = errors.New("echo differs from what was sent")

// WatchResult is what a watch saw.
type WatchResult struct {
	Config  Config
	Started time.Time
	Elapsed time.Duration
	WatchCounts
	Wrong      int64 // echoes that were not what was sent
	FirstWrong error
	// Backends counts echoes by the identity of the server that gave them;
	// Unidentified, those from servers that have none (they echo the
	// identity probe).
	Backends     map[string]int64
	Unidentified int64
	// Gaps are the flows' silences, in the order they ended.
	Gaps []Gap
	// Seconds are the watch's seconds, one row each.
	Seconds []WatchSecond
	// Latency is every echo's round trip, in microseconds.
	Latency *hdrhistogram.Histogram
}

// ErrGate is what Judge's error wraps when a watch exceeded a limit it
// was given: a rollout that fails its gate.
var ErrGate = errors.New("the watch exceeded its limit")

// Judge says what makes a watch fail, as echobench's exit status does: a
// wrong echo, no echo at all, a gap longer than maxGap (0: any length) or
// more than maxLost messages lost (-1: any number).
func (r WatchResult) Judge(maxGap time.Duration, maxLost int) error {
	longest := r.LongestGap()
	switch {
	case r.Wrong > 0:
		return fmt.Errorf("%d echoes were not what was sent; the first: %w", r.Wrong, r.FirstWrong)
	case r.Echoed == 0:
		return fmt.Errorf("%w: no echo came back from %s in %v (%d messages sent%s)", ErrNoService, r.Config.Addr, r.Elapsed.Round(time.Millisecond), r.Sent, r.troubles())
	case maxGap > 0 && longest.Length > maxGap:
		return fmt.Errorf("%w: the longest gap, %v on flow %d (%s), is longer than -max-gap %v", ErrGate, longest.Length.Round(time.Millisecond), longest.Flow, longest.Cause, maxGap)
	case maxLost >= 0 && r.Lost > int64(maxLost):
		return fmt.Errorf("%w: %d messages lost, more than -max-lost %d", ErrGate, r.Lost, maxLost)
	}
	return nil
}

// WatchCounts are a watch's counts of messages, in all or in a second.
type WatchCounts struct {
	Sent       int64 `json:"sent"`         // sent (a TCP flow sends nothing while it connects again)
	Echoed     int64 `json:"echoed"`       // echoed and checked
	Late       int64 `json:"late"`         // echoed more than Config.Timeout after they were sent
	Lost       int64 `json:"lost"`         // never echoed by the end
	OutOfOrder int64 `json:"out_of_order"` // echoed after a message sent later on the same flow
	Duplicated int64 `json:"duplicated"`   // echoed again
	Reconnects int64 `json:"reconnects"`   // TCP connections a flow opened after its first
}

// troubles says what the flows saw go wrong, in all, for a message:
// "; the flows saw: refused 60".
func (r WatchResult) troubles() string {
	all := map[string]int64{}
	for _, s := range r.Seconds {
		for cause, n := range s.Troubles {
			all[cause] += n
		}
	}
	if len(all) == 0 {
		return ""
	}
	var parts []string
	for _, cause := range slices.Sorted(maps.Keys(all)) {
		parts = append(parts, fmt.Sprintf("%s %d", cause, all[cause]))
	}
	return "; the flows saw: " + strings.Join(parts, ", ")
}

// LongestGap is the longest of the gaps, or 0.
func (r WatchResult) LongestGap() Gap {
	var longest Gap
	for _, g := range r.Gaps {
		if g.Length > longest.Length {
			longest = g
		}
	}
	return longest
}

// Gap is one flow's silence: from its last echo before to its first echo
// after, while it went on sending; or one its connection ended, however
// short.
type Gap struct {
	Flow   int           // numbered from 1
	Start  time.Duration // its last echo before, from the watch's start
	Length time.Duration
	Cause  string // what the flow saw meanwhile (the Cause constants); timeout when it saw nothing
	// Before and After are the identities that answered before and
	// after, where known.
	Before, After string
	// Open says the flow was still silent when the watch ended: Length
	// runs to the end.
	Open bool
}

// WatchSecond is one second of a watch. Lost counts the messages sent in
// it that never came back; the others count what happened in it.
type WatchSecond struct {
	Second int `json:"second"` // from 1: the second that ends Second seconds after the start
	WatchCounts
	Gaps int `json:"gaps"` // gaps that ended in it
	// Troubles counts what the flows saw go wrong in it, by cause:
	// refusals, resets, connections closed, timeouts.
	Troubles map[string]int64 `json:"troubles"`
	// Silent is how many flows were in a silence at its end, and
	// Silence the longest of those silences so far, as reported live.
	Silent       int              `json:"silent,omitempty"`
	SilenceMS    float64          `json:"longest_silence_ms,omitempty"`
	Backends     map[string]int64 `json:"backends"`
	Unidentified int64            `json:"unidentified"`
}

// book is a watch's bookkeeping, without I/O: the drivers tell it what
// they sent and what came back, at what time since the start, and it
// keeps the counts, the gaps and the seconds. Every method takes the
// lock: a watch runs at rates one lock serves.
type book struct {
	timeout time.Duration
	gapAt   time.Duration // the shortest silence that is a gap
	mu      sync.Mutex
	res     WatchResult
	flows   []*flowBook
}

// flowBook is one flow's part of the book.
type flowBook struct {
	id      int
	next    uint64                   // the next sequence number
	out     map[uint64]time.Duration // unanswered: sequence → when sent
	oldest  uint64                   // no unanswered message is older
	highest int64                    // the highest sequence echoed; -1: none yet
	sending bool                     // sends, or has sent: it is not done
	stopped time.Duration            // when it stopped sending, once it has
	since   time.Duration            // its last echo, or its first send
	cause   string                   // the first trouble since its last echo
	ended   bool                     // a connection ended since its last echo
	// waiting: since waitFrom the flow has had a message it waits for.
	// A silence is a gap only while the flow waits, not while its own
	// sending stalls.
	waiting  bool
	waitFrom time.Duration
	backend  string // the identity that answers it; "" unknown
	known    bool   // the backend is known (a probe was answered or echoed)
	named    bool   // the backend has been known once: a gap has a before
	before   string // the backend that gave its last echo, once named
	// Echoes and gaps not yet credited to a backend: a UDP flow's after a
	// silence, until its next probe comes back.
	pending     map[int]int64 // second index → echoes
	pendingGaps []int         // indexes into res.Gaps
	wantProbe   bool          // a UDP flow is to probe at its next send
}

func newBook(cfg Config, flows int, interval time.Duration) *book {
	b := &book{timeout: cfg.Timeout, gapAt: cmp.Or(cfg.Gap, max(MinGap, 4*interval))}
	b.res = WatchResult{Config: cfg, Backends: map[string]int64{}, Latency: newHistogram()}
	for i := range flows {
		b.flows = append(b.flows, &flowBook{id: i + 1, out: map[uint64]time.Duration{}, highest: -1, pending: map[int]int64{}})
	}
	return b
}

// second returns the row of the second at holds.
func (b *book) second(at time.Duration) *WatchSecond {
	i := max(0, int(at/time.Second))
	for len(b.res.Seconds) <= i {
		b.res.Seconds = append(b.res.Seconds, WatchSecond{Second: len(b.res.Seconds) + 1, Backends: map[string]int64{}, Troubles: map[string]int64{}})
	}
	return &b.res.Seconds[i]
}

// send numbers flow f's next message, sent at at, and returns its number.
func (b *book) send(f *flowBook, at time.Duration) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	seq := f.next
	f.next++
	if !f.sending && f.highest < 0 && !f.ended {
		f.since = at // the first send: a silence counts from here
	}
	f.sending = true
	if !f.waiting {
		f.waiting, f.waitFrom = true, at
	}
	f.out[seq] = at
	for len(f.out) > maxOutstanding {
		b.loseOldest(f)
	}
	b.res.Sent++
	b.second(at).Sent++
	return seq
}

// stop records that flow f sent its last message at at: a silence after
// its echoes are all back is no gap.
func (b *book) stop(f *flowBook, at time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f.stopped = at
}

// loseOldest counts flow f's oldest unanswered message lost.
func (b *book) loseOldest(f *flowBook) {
	for ; f.oldest < f.next; f.oldest++ {
		if sent, ok := f.out[f.oldest]; ok {
			delete(f.out, f.oldest)
			b.res.Lost++
			b.second(sent).Lost++
			f.oldest++
			return
		}
	}
}

// echo counts the echo of flow f's message seq, come back at at, and
// says whether the flow has nothing left unanswered.
func (b *book) echo(f *flowBook, seq uint64, at time.Duration) (done bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sent, ok := f.out[seq]
	row := b.second(at)
	if !ok {
		b.res.Duplicated++
		row.Duplicated++
		return len(f.out) == 0
	}
	delete(f.out, seq)
	rtt := at - sent
	b.res.Latency.RecordValue(max(1, rtt.Microseconds()))
	b.res.Echoed++
	row.Echoed++
	if rtt > b.timeout {
		b.res.Late++
		row.Late++
	}
	if int64(seq) < f.highest {
		b.res.OutOfOrder++
		row.OutOfOrder++
	} else {
		f.highest = int64(seq)
	}
	if f.ended || b.silence(f, at) >= b.gapAt {
		b.gap(f, at-f.since, false)
	}
	b.credit(f, at, 1)
	if f.known {
		f.before = f.backend
	}
	f.since, f.cause, f.ended = at, "", false
	f.waiting, f.waitFrom = len(f.out) > 0, at
	return len(f.out) == 0
}

// silence is how long flow f has waited for an echo at now, or 0.
func (b *book) silence(f *flowBook, now time.Duration) time.Duration {
	if !f.waiting {
		return 0
	}
	return now - f.waitFrom
}

// gap records flow f's silence of length, ended now or by the watch's end
// (open).
func (b *book) gap(f *flowBook, length time.Duration, open bool) {
	g := Gap{Flow: f.id, Start: f.since, Length: length, Cause: cmp.Or(f.cause, CauseTimeout), Open: open}
	if f.named {
		g.Before = f.before
	}
	b.res.Gaps = append(b.res.Gaps, g)
	b.second(f.since+length).Gaps++
	if open {
		return
	}
	if f.known && !f.wantProbe {
		b.res.Gaps[len(b.res.Gaps)-1].After = f.backend
		return
	}
	f.pendingGaps = append(f.pendingGaps, len(b.res.Gaps)-1)
}

// credit counts n echoes at at to the backend that answers flow f, or
// keeps them until it is known.
func (b *book) credit(f *flowBook, at time.Duration, n int64) {
	if !f.known {
		f.pending[int(at/time.Second)] += n
		return
	}
	row := b.second(at)
	if f.backend == "" {
		b.res.Unidentified += n
		row.Unidentified += n
		return
	}
	b.res.Backends[f.backend] += n
	row.Backends[f.backend] += n
}

// unsure makes flow f's backend unknown until its next probe is
// answered: a UDP flow after a silence, whose datagrams may now go
// elsewhere.
func (b *book) unsure(f *flowBook) {
	f.known, f.wantProbe = false, true
}

// identified records that flow f is answered by the server named name
// ("" for one without an identity), crediting what waited for it.
func (b *book) identified(f *flowBook, name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(f.pending) > 0 || !f.named {
		f.before = name // what gave the echoes that waited, or the first
	}
	f.backend, f.known, f.named = name, true, true
	for i, n := range f.pending {
		b.credit(f, time.Duration(i)*time.Second, n)
	}
	clear(f.pending)
	for _, i := range f.pendingGaps {
		b.res.Gaps[i].After = name
	}
	f.pendingGaps = f.pendingGaps[:0]
}

// probeDue says whether a UDP flow is to send its identity probe now,
// last having sent one at last.
func (b *book) probeDue(f *flowBook, now, last time.Duration) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	due := f.wantProbe || now-last >= probeEvery
	f.wantProbe = false
	return due
}

// trouble records what flow f saw: cause, and whether its connection
// ended, which loses what it left unanswered (TCP delivers nothing of a
// connection after it ends).
func (b *book) trouble(f *flowBook, cause string, ended bool, at time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.second(at).Troubles[cause]++
	if f.cause == "" {
		f.cause = cause
	}
	if !ended {
		return
	}
	f.ended = true
	for seq, sent := range f.out {
		delete(f.out, seq)
		b.res.Lost++
		b.second(sent).Lost++
	}
	f.oldest = f.next
}

// silentFor makes a UDP flow's backend unknown once it has waited a gap's
// length for an echo: its datagrams may be going elsewhere now.
func (b *book) silentFor(f *flowBook, now time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.silence(f, now) >= b.gapAt && f.known {
		b.unsure(f)
	}
}

// reconnected counts a TCP flow's new connection at at.
func (b *book) reconnected(at time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.res.Reconnects++
	b.second(at).Reconnects++
}

// wrong counts an echo that was not what was sent.
func (b *book) wrong(f *flowBook, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.res.Wrong++
	if b.res.FirstWrong == nil {
		b.res.FirstWrong = fmt.Errorf("flow %d: %w", f.id, err)
	}
	if f.cause == "" {
		f.cause = CauseWrong
	}
}

// overdue tells whether flow f has a message unanswered for longer than
// the timeout at now.
func (b *book) overdue(f *flowBook, now time.Duration) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, sent := range f.out {
		if now-sent > b.timeout {
			return true
		}
	}
	return false
}

// unanswered is how many messages flow f is waiting for.
func (b *book) unanswered(f *flowBook) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(f.out)
}

// due is how many messages flow f may still see come back at now: those
// sent within the timeout (a UDP flow's older ones are as good as lost).
func (b *book) due(f *flowBook, now time.Duration) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, sent := range f.out {
		if now-sent <= b.timeout {
			n++
		}
	}
	return n
}

// row returns a copy of second i's row as it stands, with the flows
// silent at now.
func (b *book) row(i int, now time.Duration) WatchSecond {
	b.mu.Lock()
	defer b.mu.Unlock()
	row := b.second(time.Duration(i) * time.Second)
	row.Silent, row.SilenceMS = 0, 0
	for _, f := range b.flows {
		if f.stopped == 0 && b.silence(f, now) >= b.gapAt {
			row.Silent++
			row.SilenceMS = max(row.SilenceMS, ms(now-f.since))
		}
	}
	r := *row
	r.Backends, r.Troubles = maps.Clone(r.Backends), maps.Clone(r.Troubles)
	return r
}

// finish ends the book at end: what is unanswered is lost, a flow still
// silent has an open gap, and echoes whose backend never became known
// are credited to no identity.
func (b *book) finish(end time.Duration) WatchResult {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range b.flows {
		// A flow that sent after its last echo and has that message still
		// due was silent until the end; otherwise until it stopped.
		silentUntil := cmp.Or(f.stopped, end)
		for _, sent := range f.out {
			if sent > f.since {
				silentUntil = end
				break
			}
		}
		for len(f.out) > 0 {
			b.loseOldest(f)
		}
		if f.sending && (f.ended || b.silence(f, silentUntil) >= b.gapAt) {
			b.gap(f, end-f.since, true)
		}
		if !f.known {
			f.backend, f.known = "", true
			for i, n := range f.pending {
				b.credit(f, time.Duration(i)*time.Second, n)
			}
		}
	}
	b.second(max(0, end-time.Nanosecond)) // every second of the watch has its row
	b.res.Elapsed = end
	res := b.res
	res.Gaps = slices.Clone(b.res.Gaps)
	sort.SliceStable(res.Gaps, func(i, j int) bool {
		return res.Gaps[i].Start+res.Gaps[i].Length < res.Gaps[j].Start+res.Gaps[j].Length
	})
	return res
}

// causeOf names what err says happened to a flow.
func causeOf(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return CauseClosed
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return CauseReset
	case errors.Is(err, syscall.ECONNREFUSED):
		return CauseRefused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return CauseUnreachable
	case errors.Is(err, os.ErrDeadlineExceeded):
		return CauseTimeout
	case errors.Is(err, ErrWrongEcho):
		return CauseWrong
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return CauseTimeout
	}
	return CauseOther
}

// minWatchSize is a watch message's least size: room for the flow and
// the sequence number.
const minWatchSize = 48

// watchMessage fills msg with flow's message seq: "W", the flow and the
// sequence number in decimal, a space, filler, and a newline last, so
// that every framing echoes it whole.
func watchMessage(msg []byte, flow int, seq uint64) {
	var head [48]byte
	h := append(head[:0], 'W')
	h = strconv.AppendInt(h, int64(flow), 10)
	h = append(h, ':')
	h = strconv.AppendUint(h, seq, 10)
	h = append(h, ' ')
	n := copy(msg, h)
	const filler = "abcdefghijklmnopqrstuvwxyz0123456789"
	for i := n; i < len(msg)-1; i++ {
		msg[i] = filler[(i+flow)%len(filler)]
	}
	msg[len(msg)-1] = '\n'
}

// readWatchMessage returns the sequence number of echo, which is to be
// one of flow's messages, using want (as long as echo) as scratch; ok is
// false for anything that is not exactly such a message.
func readWatchMessage(echo, want []byte, flow int) (seq uint64, ok bool) {
	var head [48]byte
	prefix := strconv.AppendInt(append(head[:0], 'W'), int64(flow), 10)
	prefix = append(prefix, ':')
	if len(echo) < len(prefix) || string(echo[:len(prefix)]) != string(prefix) {
		return 0, false
	}
	end := len(prefix)
	for end < len(echo) && echo[end] >= '0' && echo[end] <= '9' {
		end++
	}
	seq, err := strconv.ParseUint(string(echo[len(prefix):end]), 10, 64)
	if err != nil {
		return 0, false
	}
	watchMessage(want, flow, seq)
	return seq, string(want) == string(echo)
}
