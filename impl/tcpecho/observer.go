package tcpecho

import (
	"net"

	"github.com/echospec/echo/internal/observe"
)

// EventKind names what happened in an Event.
type EventKind int

// The kinds of Event, in the order a connection produces them.
const (
	// ConnOpened: the server accepted a connection.
	ConnOpened EventKind = iota + 1
	// DataRead: one read from the connection returned Event.Bytes bytes,
	// before they are split into messages. It tells when the server has
	// taken in what a client sent.
	DataRead
	// MessageReceived: the framing took Event.Message as one message. Its
	// echo is written after the event.
	MessageReceived
	// ConnClosed: the connection is closed; Event.Reason says why.
	ConnClosed
	// ConnRejected: a connection was closed before it was served:
	// MaxConns or MaxConnsPerIP were open (Event.Reason is ErrTooManyConns
	// or ErrTooManyFromSource), or its preamble failed (ErrHandshake,
	// ErrProxyHeader).
	ConnRejected
	// DataWritten: the echo of Event.Messages messages (as
	// MessageReceived counts them), Event.Bytes bytes, was written back
	// whole; or, when Event.Reason is set, its write failed (the client
	// may have had a part of it) and the connection ends for that reason.
	// It comes once the write has returned, one per write, however many
	// messages the echo holds: an observer of it and not of
	// MessageReceived costs a batch of messages one call.
	DataWritten
)

// String returns a short lower-case name, as used in logs.
func (k EventKind) String() string {
	switch k {
	case ConnOpened:
		return "conn opened"
	case DataRead:
		return "data read"
	case MessageReceived:
		return "message received"
	case ConnClosed:
		return "conn closed"
	case ConnRejected:
		return "conn rejected"
	case DataWritten:
		return "data written"
	}
	return "unknown event"
}

// Event is one thing the server saw on one connection.
type Event struct {
	Kind EventKind
	// Conn numbers the server's connections from 1, in the order accepted.
	Conn uint64
	// Remote is the client's address: the LocalAddr of the client's
	// socket, which behind a load balancer is the one its PROXY header
	// gave.
	Remote net.Addr
	// Local is the server's address the connection came to, for
	// ConnOpened: the listener's own, or, on a listener on all addresses
	// (0.0.0.0, [::]), the one the client chose.
	Local net.Addr
	// Identity is the server's Identity, if it has one, for ConnOpened:
	// what a client's identity probe on the connection learns.
	Identity string
	// Proxy is the address of the load balancer that sent a PROXY header
	// for the connection, or nil.
	Proxy net.Addr
	// TLS is what a TLS connection agreed on, from ConnOpened on, or nil.
	TLS *TLSInfo
	// Bytes is the number of bytes read, for DataRead, or written, for
	// DataWritten.
	Bytes int
	// Messages is the number of messages an echo completed, for
	// DataWritten.
	Messages int
	// Message is the message, for MessageReceived. It is the server's own
	// buffer and valid only during the call: copy it to keep it.
	Message []byte
	// Reason says why the connection closed, for ConnClosed (and why
	// an echo's write failed, for DataWritten). It is
	// ErrClientClosed when the client ended its stream and everything it
	// sent was echoed; ErrServerClosed when the server was shut down or
	// closed; ErrIdleTimeout, ErrWriteTimeout or ErrTooManyConns when a
	// limit ended it; otherwise the read or write error that ended it, so
	// that errors.Is(Reason, syscall.ECONNRESET) tells a reset.
	Reason error
}

// Observer is told what a server saw. Its Observe method is called one
// event at a time per connection, in order, but concurrently across
// connections: ConnOpened and ConnRejected from the goroutine that
// accepts, the others from the connection's own or, while it is parked,
// from the event loop that serves it (see the package documentation). It
// must be quick, for the server waits for it, and a loop serves many
// connections. A server with no Observer does no work to make
// events.
type Observer = observe.Observer[Event]

// Interests is what an Observer may also implement to say which kinds of
// event it wants: a server does not make the others, so an observer of
// connections costs nothing per message. Without it, an Observer gets all.
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
