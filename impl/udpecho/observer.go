package udpecho

import "net/netip"

// EventKind names what happened in an Event.
type EventKind int

// The kinds of Event.
const (
	// Received: a datagram came in and its payload, Event.Payload, is
	// about to be sent back.
	Received EventKind = iota + 1
	// Refused: the reflection guard dropped a datagram unanswered;
	// Event.Reason says why.
	Refused
	// Failed: reading or answering one datagram failed; Event.Reason is the
	// error. The server goes on with the next.
	Failed
)

// String returns a short lower-case name, as used in logs.
func (k EventKind) String() string {
	switch k {
	case Received:
		return "received"
	case Refused:
		return "refused"
	case Failed:
		return "failed"
	}
	return "unknown event"
}

// Event is one thing the server saw.
type Event struct {
	Kind EventKind
	// Source is the datagram's sender (zero for a failed read).
	Source netip.AddrPort
	// Payload is the datagram's payload, for Received and Refused. It is
	// the server's own buffer and valid only during the call: copy it to
	// keep it.
	Payload []byte
	// Reason says why, for Refused and Failed.
	Reason error
}

// Observer is told what a server saw. Observe is called from the server's
// reading goroutine, before the datagram is answered, so it must be quick.
// A server with no Observer does no work to make events.
type Observer interface {
	Observe(Event)
}

// ObserverFunc lets an ordinary function be an Observer.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// Observers returns an Observer that tells each of obs, in order, skipping
// nil ones, or nil when none is left, so that a server told of nothing
// still does no work for it.
func Observers(obs ...Observer) Observer {
	var all multiObserver
	for _, o := range obs {
		if o != nil {
			all = append(all, o)
		}
	}
	switch len(all) {
	case 0:
		return nil
	case 1:
		return all[0]
	}
	return all
}

type multiObserver []Observer

func (m multiObserver) Observe(e Event) {
	for _, o := range m {
		o.Observe(e)
	}
}
