package udpecho

import (
	"net/netip"

	"github.com/echospec/echo/internal/observe"
)

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
	// Answered: a datagram's echo, Event.Payload, was sent to
	// Event.Source. It comes after the send returned, so it never counts
	// an answer that failed.
	Answered
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
	case Answered:
		return "answered"
	}
	return "unknown event"
}

// Event is one thing the server saw.
type Event struct {
	Kind EventKind
	// Source is the datagram's sender (zero for a failed read).
	Source netip.AddrPort
	// Local is the address the datagram was sent to: on a socket bound to
	// a wildcard address (0.0.0.0, [::]), the one of the host's addresses
	// its sender chose, which the answer leaves from.
	Local netip.AddrPort
	// Payload is the datagram's payload, for Received, Refused and
	// Answered. It is the server's own buffer and valid only during the
	// call: copy it to keep it.
	Payload []byte
	// Reason says why, for Refused and Failed.
	Reason error
}

// Observer is told what a server saw. Observe is called from the server's
// reading goroutine, before the datagram is answered, so it must be quick.
// A server with no Observer does no work to make events.
type Observer = observe.Observer[Event]

// Interests is what an Observer may also implement to say which kinds of
// event it wants: a server does not make the others. Without it, an
// Observer gets all.
type Interests = observe.Interests[EventKind]

// wants tells whether obs wants events of kind k.
func wants(obs Observer, k EventKind) bool { return observe.Wants[Event](obs, k) }

// ObserverFunc lets an ordinary function be an Observer.
type ObserverFunc = observe.Func[Event]

// MultiObserver returns an Observer that tells each of obs, in order, of
// the events it wants, skipping nil ones, as io.MultiWriter writes to each
// writer; or nil when none is left, so that a server told of nothing still
// does no work for it. It implements Interests: what any of them wants.
func MultiObserver(obs ...Observer) Observer { return observe.Multi(kindOf, obs...) }

func kindOf(e Event) EventKind { return e.Kind }

// Observers is MultiObserver.
//
// Deprecated: use MultiObserver, named like io.MultiWriter.
func Observers(obs ...Observer) Observer { return MultiObserver(obs...) }
