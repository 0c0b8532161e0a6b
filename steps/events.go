package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/impl/udpecho"
)

// patience bounds every wait for something a scenario expects.
const patience = 5 * time.Second

// maxEvents bounds what one scenario's server may report: enough for the
// load scenarios, 200 clients sending 200 lines in 4-byte messages.
const maxEvents = 1_000_000

// event is a copy of a tcpecho.Event that outlives the call.
type event struct {
	kind    tcpecho.EventKind
	remote  string
	proxy   string           // the balancer that sent a PROXY header, if one did
	tls     *tcpecho.TLSInfo // what a TLS connection agreed on
	bytes   int
	message []byte
	reason  error
	at      time.Time // when the scenario learnt of it
}

// eventLog records what a server saw, as its Observer does, and lets steps
// wait until it has seen what they expect.
type eventLog[E any] struct {
	summary func([]E) string // for failure messages

	mu      sync.Mutex
	events  []E
	notices []string // what the server told the stream's reader besides events
	dropped int
	broken  error         // why the events can no longer be trusted
	changed chan struct{} // closed on the next change, made when a wait asks for it
}

func newEventLog[E any](summary func([]E) string) *eventLog[E] {
	return &eventLog[E]{summary: summary}
}

func (l *eventLog[E]) add(e E) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) >= maxEvents {
		l.dropped++
		return
	}
	l.events = append(l.events, e)
	l.signalLocked()
}

// signalLocked wakes the waits, if any wait; l.mu must be held. A server
// that reports a message every four bytes makes no channel per event.
func (l *eventLog[E]) signalLocked() {
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// watchLocked returns a channel closed at the next change; l.mu must be
// held.
func (l *eventLog[E]) watchLocked() <-chan struct{} {
	if l.changed == nil {
		l.changed = make(chan struct{})
	}
	return l.changed
}

// notice records a line of the stream that tells the reader something.
func (l *eventLog[E]) notice(text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notices = append(l.notices, text)
	l.signalLocked()
}

// waitForNotice waits until the server has told the reader something
// that contains text.
func (l *eventLog[E]) waitForNotice(ctx context.Context, text string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	for {
		l.mu.Lock()
		notices, changed := l.notices, l.watchLocked()
		l.mu.Unlock()
		for _, n := range notices {
			if strings.Contains(n, text) {
				return n, nil
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("waited %v for a notice about %q; the server's notices: %q", patience, text, notices)
		}
	}
}

// fail records that an event could not be read, which every later wait
// reports.
func (l *eventLog[E]) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken == nil {
		l.broken = err
	}
	l.signalLocked()
}

// waitFor waits until done holds for the events so far, or patience runs
// out, and returns the events it last looked at. The error says what was
// awaited and what was seen instead.
func (l *eventLog[E]) waitFor(ctx context.Context, what string, done func([]E) bool) ([]E, error) {
	ctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	for {
		l.mu.Lock()
		events, changed, dropped, broken := l.events, l.watchLocked(), l.dropped, l.broken
		l.mu.Unlock()
		if broken != nil {
			return events, fmt.Errorf("the server's event stream broke: %w", broken)
		}
		if dropped > 0 {
			return events, fmt.Errorf("the server reported more than %d events; the scenario is too large to observe", maxEvents)
		}
		if done(events) {
			return events, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return events, fmt.Errorf("waited %v for %s; the server saw: %s", patience, what, l.summary(events))
		}
	}
}

// snapshot returns the events so far.
func (l *eventLog[E]) snapshot() []E {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.events
}

// tcpObserver records a TCP server's events in log.
func tcpObserver(log *eventLog[event]) tcpecho.Observer {
	var names addrNames
	return tcpecho.ObserverFunc(func(e tcpecho.Event) { log.add(tcpEvent(e, names.of)) })
}

// addrNames writes each connection's address once, not once per event: a
// connection reports the same net.Addr for all its events, and a server
// that reports a message every four bytes would otherwise spend more on
// its observer than on its echo.
type addrNames struct{ m sync.Map }

// addrString writes a, or nothing for no address.
func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func (n *addrNames) of(a net.Addr) string {
	if a == nil {
		return ""
	}
	if s, ok := n.m.Load(a); ok {
		return s.(string)
	}
	s := a.String()
	n.m.Store(a, s)
	return s
}

// tcpEvents records the lines of a TCP server process's event stream.
func tcpEvents(log *eventLog[event]) func(line []byte) {
	return streamEvents(log, tcpecho.ReadEvent, func(e tcpecho.Event) event { return tcpEvent(e, addrString) })
}

// streamEvents records in log the lines of a server process's event
// stream, each read by read and kept as convert makes it.
func streamEvents[E, R any](log *eventLog[E], read func([]byte) (R, error), convert func(R) E) func(line []byte) {
	return func(line []byte) {
		e, err := read(line)
		switch {
		case errors.Is(err, tcpecho.ErrStreamNotice), errors.Is(err, udpecho.ErrStreamNotice):
			// Not an event: the server tells its reader something, such
			// as that its stderr failed.
			log.notice(err.Error())
		case err != nil:
			// ErrEventsDropped among them: what the scenario waits for
			// may be what was dropped, so its waits cannot be trusted.
			log.fail(err)
		default:
			log.add(convert(e))
		}
	}
}

// tcpEvent copies e, naming addresses with name.
func tcpEvent(e tcpecho.Event, name func(net.Addr) string) event {
	return event{
		kind:    e.Kind,
		remote:  name(e.Remote),
		proxy:   name(e.Proxy),
		tls:     e.TLS,
		bytes:   e.Bytes,
		message: bytes.Clone(e.Message),
		reason:  e.Reason,
		at:      time.Now(),
	}
}

// messages returns the messages in events, on the connection from remote
// or, when remote is empty, on every connection.
func messages(events []event, remote string) [][]byte {
	var out [][]byte
	for _, e := range events {
		if e.kind == tcpecho.MessageReceived && (remote == "" || e.remote == remote) {
			out = append(out, e.message)
		}
	}
	return out
}

// count returns how many events are of kind.
func count(events []event, kind tcpecho.EventKind) int {
	n := 0
	for _, e := range events {
		if e.kind == kind {
			n++
		}
	}
	return n
}

// countFor returns how many events are of kind with a reason that is why.
func countFor(events []event, kind tcpecho.EventKind, why error) int {
	n := 0
	for _, e := range events {
		if e.kind == kind && errors.Is(e.reason, why) {
			n++
		}
	}
	return n
}

// summary describes events briefly for a failure message.
func summary(events []event) string {
	opened, closed, read := 0, 0, 0
	for _, e := range events {
		switch e.kind {
		case tcpecho.ConnOpened:
			opened++
		case tcpecho.ConnClosed:
			closed++
		case tcpecho.DataRead:
			read += e.bytes
		}
	}
	msgs := messages(events, "")
	shown := make([]string, 0, min(len(msgs), 8))
	for _, m := range msgs[:min(len(msgs), 8)] {
		shown = append(shown, show(m))
	}
	return fmt.Sprintf("%d connections opened, %d closed, %d bytes read, %d messages %v", opened, closed, read, len(msgs), shown)
}
