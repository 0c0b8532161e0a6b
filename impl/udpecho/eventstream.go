package udpecho

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/echospec/echo/internal/eventnote"
	"io"
	"net/netip"
	"sync"
)

// eventLine is an Event as one JSON line of an event stream.
type eventLine struct {
	Kind    string `json:"kind"`
	Source  string `json:"source"`
	Payload []byte `json:"payload"` // base64, as encoding/json writes bytes
	Reason  string `json:"reason,omitempty"`
	// Why is the Reason's class, for programs: "service port", "nfs port",
	// "group source" or "error".
	Why string `json:"why,omitempty"`
}

var whys = map[string]error{"service port": ErrServicePort, "nfs port": ErrNFSPort, "group source": ErrGroupSource}

// EventStream returns an Observer that writes every event to w as a line
// of JSON, for programs watching a server from outside its process:
//
//	{"kind":"received","source":"127.0.0.1:40312","payload":"aGk="}
//	{"kind":"refused","source":"127.0.0.9:7","payload":"aGk=","reason":"source is a service port (below 1024)","why":"service port"}
//
// Payloads are whole, base64-encoded. ReadEvent reads the lines back.
func EventStream(w io.Writer) Observer {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	return ObserverFunc(func(e Event) {
		line := eventLine{Kind: e.Kind.String(), Source: e.Source.String(), Payload: e.Payload}
		if e.Reason != nil {
			line.Reason, line.Why = e.Reason.Error(), "error"
			for name, sentinel := range whys {
				if errors.Is(e.Reason, sentinel) {
					line.Why = name
				}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(line) // a watcher that went away must not stop the server
	})
}

// ErrEventsDropped is what ReadEvent returns for the line a server writes
// where it dropped events because the stream's reader did not keep up: a
// reader that needs every event must take it as a failure.
var ErrEventsDropped = eventnote.ErrDropped

// ErrStreamNotice is what ReadEvent returns for a line that tells the
// reader something about the server rather than an event, such as that
// its stderr failed.
var ErrStreamNotice = eventnote.ErrNotice

// ReadEvent parses one line of an EventStream. A Refused event's Reason is
// the guard's own sentinel again, so errors.Is works across the process
// boundary.
func ReadEvent(line []byte) (Event, error) {
	var l eventLine
	if err := json.Unmarshal(line, &l); err != nil {
		return Event{}, fmt.Errorf("event %q: %w", line, err)
	}
	if err := eventnote.Parse(line, l.Kind); err != nil {
		return Event{}, err
	}
	e := Event{Payload: l.Payload}
	if e.Payload == nil {
		e.Payload = []byte{}
	}
	for k := Received; k <= Failed; k++ {
		if k.String() == l.Kind {
			e.Kind = k
		}
	}
	if e.Kind == 0 {
		return Event{}, fmt.Errorf("event %q: unknown kind %q", line, l.Kind)
	}
	if src, err := netip.ParseAddrPort(l.Source); err == nil {
		e.Source = src
	}
	if l.Why != "" {
		e.Reason = whys[l.Why]
		if e.Reason == nil {
			e.Reason = errors.New(l.Reason)
		}
	}
	return e, nil
}
