// Package eventline is the event stream both servers write with -events,
// and their packages' ReadEvent reads: one JSON line per event, written
// whole and in order by one Encoder; the reasons a program can tell apart,
// named in a Reasons table that encodes and decodes them alike; and the
// lines that are not events: how many events were dropped because the
// reader did not keep up, and notices such as a failing stderr. tcpecho
// and udpecho differ only in their events' fields.
package eventline

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrDropped is what Parse returns for the line that stands where events
// were dropped.
var ErrDropped = errors.New("the server dropped events: the stream's reader did not keep up")

// ErrNotice is what Parse returns for a notice.
var ErrNotice = errors.New("a notice from the server")

type note struct {
	Kind   string `json:"kind"`
	Count  uint64 `json:"count,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Dropped is the line that says n events were dropped here.
func Dropped(n uint64) []byte { return line(note{Kind: "dropped", Count: n}) }

// Notice is a line that tells the reader text.
func Notice(text string) []byte { return line(note{Kind: "notice", Reason: text}) }

func line(n note) []byte {
	b, _ := json.Marshal(n) // a struct of strings and numbers always marshals
	return append(b, '\n')
}

// Parse returns an error wrapping ErrDropped or ErrNotice for a line of
// kind "dropped" or "notice", and nil for any other kind: an event.
func Parse(line []byte, kind string) error {
	if kind != "dropped" && kind != "notice" {
		return nil
	}
	var n note
	if err := json.Unmarshal(line, &n); err != nil {
		return fmt.Errorf("stream note %q: %w", line, err)
	}
	if kind == "dropped" {
		return fmt.Errorf("%w: %d events", ErrDropped, n.Count)
	}
	return fmt.Errorf("%w: %s", ErrNotice, n.Reason)
}
