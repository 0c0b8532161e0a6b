package tcpecho

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/echospec/echo/internal/eventnote"
	"io"
	"net"
	"net/netip"
	"sync"
)

// eventLine is an Event as one JSON line of an event stream.
type eventLine struct {
	Kind    string `json:"kind"`
	Conn    uint64 `json:"conn"`
	Remote  string `json:"remote"`
	Bytes   int    `json:"bytes,omitempty"`
	Message []byte `json:"message,omitempty"` // base64, as encoding/json writes bytes
	Reason  string `json:"reason,omitempty"`
	// Why is the Reason's class, for programs: "client closed", "server
	// closed", "idle timeout", "write timeout", "too many", "too many from
	// source", "reset" or "error".
	Why string `json:"why,omitempty"`
}

// EventStream returns an Observer that writes every event to w as a line
// of JSON, for programs watching a server from outside its process:
//
//	{"kind":"conn opened","conn":1,"remote":"127.0.0.1:40312"}
//	{"kind":"message received","conn":1,"remote":"127.0.0.1:40312","message":"aGVsbG8K"}
//	{"kind":"conn closed","conn":1,"remote":"127.0.0.1:40312","reason":"client closed the connection","why":"client closed"}
//
// Messages are whole, base64-encoded. Writes are serialised; a slow w slows
// the connections that report to it. ReadEvent reads the lines back.
func EventStream(w io.Writer) Observer {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	return ObserverFunc(func(e Event) {
		line := eventLine{Kind: e.Kind.String(), Conn: e.Conn, Remote: e.Remote.String(), Bytes: e.Bytes, Message: e.Message}
		if e.Reason != nil {
			line.Reason, line.Why = e.Reason.Error(), why(e.Reason)
		}
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(line) // a watcher that went away must not stop the server
	})
}

// whys are the Reasons a program can tell apart, by their names in a
// stream.
var whys = []struct {
	name string
	is   error
}{
	{"client closed", ErrClientClosed},
	{"server closed", ErrServerClosed},
	{"idle timeout", ErrIdleTimeout},
	{"write timeout", ErrWriteTimeout},
	{"too many", ErrTooManyConns},
	{"too many from source", ErrTooManyFromSource},
	{"reset", ErrClientReset},
}

func why(reason error) string {
	for _, w := range whys {
		if errors.Is(reason, w.is) {
			return w.name
		}
	}
	return "error"
}

// ErrEventsDropped is what ReadEvent returns for the line a server writes
// where it dropped events because the stream's reader did not keep up: a
// reader that needs every event must take it as a failure.
var ErrEventsDropped = eventnote.ErrDropped

// ErrStreamNotice is what ReadEvent returns for a line that tells the
// reader something about the server rather than an event, such as that
// its stderr failed.
var ErrStreamNotice = eventnote.ErrNotice

// ReadEvent parses one line of an EventStream. The Reason it returns wraps
// the same sentinel the server's did (ErrClientClosed, ErrServerClosed,
// syscall.ECONNRESET), so errors.Is works across the process boundary.
func ReadEvent(line []byte) (Event, error) {
	var l eventLine
	if err := json.Unmarshal(line, &l); err != nil {
		return Event{}, fmt.Errorf("event %q: %w", line, err)
	}
	if err := eventnote.Parse(line, l.Kind); err != nil {
		return Event{}, err
	}
	e := Event{Conn: l.Conn, Bytes: l.Bytes, Message: l.Message}
	for k := ConnOpened; k <= ConnRejected; k++ {
		if k.String() == l.Kind {
			e.Kind = k
		}
	}
	if e.Kind == 0 {
		return Event{}, fmt.Errorf("event %q: unknown kind %q", line, l.Kind)
	}
	remote, err := netip.ParseAddrPort(l.Remote)
	if err != nil {
		return Event{}, fmt.Errorf("event %q: remote: %w", line, err)
	}
	e.Remote = net.TCPAddrFromAddrPort(remote)
	if l.Why != "" {
		e.Reason = errors.New(l.Reason)
		for _, w := range whys {
			if w.name == l.Why {
				e.Reason = relayed{l.Reason, w.is}
			}
		}
	}
	return e, nil
}

// relayed is an error read back from an event stream: the server's text,
// and the sentinel it wrapped.
type relayed struct {
	text string
	is   error
}

func (r relayed) Error() string { return r.text }
func (r relayed) Unwrap() error { return r.is }
