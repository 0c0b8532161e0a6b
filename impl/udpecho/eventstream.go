package udpecho

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/echospec/echo/internal/eventline"
)

// eventLine is an Event as one JSON line of an event stream.
type eventLine struct {
	Kind    string `json:"kind"`
	Source  string `json:"source,omitempty"` // none for a failed read
	Local   string `json:"local,omitempty"`  // the address the datagram came to
	Payload []byte `json:"payload"`          // base64, as encoding/json writes bytes
	Reason  string `json:"reason,omitempty"`
	// Why is the Reason's class, for programs: "service port", "nfs port",
	// "group source", "own port", "loop" or "error".
	Why string `json:"why,omitempty"`
}

// reasons are the Reasons a program can tell apart, by their names in a
// stream.
var reasons = eventline.Reasons{
	{Name: "service port", Is: ErrServicePort},
	{Name: "nfs port", Is: ErrNFSPort},
	{Name: "group source", Is: ErrGroupSource},
	{Name: "own port", Is: ErrOwnPort},
	{Name: "loop", Is: ErrLoop},
}

// EventStream returns an Observer that writes every event to w as a line
// of JSON, for programs watching a server from outside its process:
//
//	{"kind":"received","source":"127.0.0.1:40312","local":"127.0.0.2:7007","payload":"aGk="}
//	{"kind":"answered","source":"127.0.0.1:40312","local":"127.0.0.2:7007","payload":"aGk="}
//	{"kind":"refused","source":"127.0.0.9:7","local":"127.0.0.1:7007","payload":"aGk=","reason":"source is a service port (below 1024)","why":"service port"}
//
// Payloads are whole, base64-encoded. ReadEvent reads the lines back.
func EventStream(w io.Writer) Observer {
	enc := eventline.NewEncoder(w)
	return ObserverFunc(func(e Event) {
		line := eventLine{Kind: e.Kind.String(), Payload: e.Payload}
		if e.Source.IsValid() {
			line.Source = e.Source.String()
		}
		if e.Local.IsValid() {
			line.Local = e.Local.String()
		}
		if e.Reason != nil {
			line.Reason, line.Why = e.Reason.Error(), reasons.Name(e.Reason)
		}
		enc.Encode(line)
	})
}

// Why names the class of a datagram's reason, as the event stream's
// "why" field does: "service port", "own port", "loop", ..., or "error" for a reason of no class. The
// names are few and fixed, fit for a metric's label.
func Why(reason error) string { return reasons.Name(reason) }

// Whys lists every name Why returns, "error" last.
func Whys() []string { return reasons.Names() }

// ErrEventsDropped is what ReadEvent returns for the line a server writes
// where it dropped events because the stream's reader did not keep up: a
// reader that needs every event must take it as a failure.
var ErrEventsDropped = eventline.ErrDropped

// ErrStreamNotice is what ReadEvent returns for a line that tells the
// reader something about the server rather than an event, such as that
// its stderr failed.
var ErrStreamNotice = eventline.ErrNotice

// ReadEvent parses one line of an EventStream. The Reason it returns is
// the server's text wrapping the same sentinel the server's did (the
// guard's ErrServicePort, ...), so errors.Is works across the process
// boundary. A line that is not an event of this stream is an error.
func ReadEvent(line []byte) (Event, error) {
	var l eventLine
	kind, err := eventline.Decode(line, &l, Received, Answered)
	if err != nil {
		return Event{}, err
	}
	e := Event{Kind: kind, Payload: l.Payload, Reason: reasons.Read(l.Reason, l.Why)}
	if e.Payload == nil {
		e.Payload = []byte{}
	}
	if l.Source != "" {
		if e.Source, err = netip.ParseAddrPort(l.Source); err != nil {
			return Event{}, fmt.Errorf("event %q: source: %w", line, err)
		}
	}
	if l.Local != "" {
		if e.Local, err = netip.ParseAddrPort(l.Local); err != nil {
			return Event{}, fmt.Errorf("event %q: local: %w", line, err)
		}
	}
	return e, nil
}
