package eventline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Encoder writes events to a stream, one JSON line each, whole even when
// connections report at once.
type Encoder struct {
	mu  sync.Mutex
	enc *json.Encoder
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{enc: json.NewEncoder(w)} }

// Encode writes v as one line. A write that fails is dropped: a watcher
// that went away must not stop the server, and a sink in front of w
// counts what it loses.
func (e *Encoder) Encode(v any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.enc.Encode(v)
}

// Decode parses one line of a stream into v, an event's line type with a
// "kind" field, and returns the event's kind: the one between first and
// last whose String is that field. It returns an error wrapping
// ErrDropped or ErrNotice for a line that is not an event, and one naming
// the line for bad JSON or an unknown kind.
func Decode[K named](line []byte, v any, first, last K) (K, error) {
	var k struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(line, &k); err != nil {
		return 0, fmt.Errorf("event %q: %w", line, err)
	}
	if err := Parse(line, k.Kind); err != nil {
		return 0, err
	}
	if err := json.Unmarshal(line, v); err != nil {
		return 0, fmt.Errorf("event %q: %w", line, err)
	}
	for kind := first; kind <= last; kind++ {
		if kind.String() == k.Kind {
			return kind, nil
		}
	}
	return 0, fmt.Errorf("event %q: unknown kind %q", line, k.Kind)
}

// named is what an event's kind is in each package: a small int with names.
type named interface {
	~int
	String() string
}

// Reasons names the reasons a program can tell apart in a stream: each
// name stands for the sentinel error the server's reason wrapped.
type Reasons []Reason

// Reason is one named reason.
type Reason struct {
	Name string
	Is   error
}

// Names lists the names, then "error", the name of a reason of no class.
func (rs Reasons) Names() []string {
	names := make([]string, 0, len(rs)+1)
	for _, r := range rs {
		names = append(names, r.Name)
	}
	return append(names, "error")
}

// Name is the name for reason: the first whose sentinel it wraps, or
// "error".
func (rs Reasons) Name(reason error) string {
	for _, r := range rs {
		if errors.Is(reason, r.Is) {
			return r.Name
		}
	}
	return "error"
}

// Read is the reason a line gave, the server's own text, wrapping the
// sentinel its name stands for, so that errors.Is works across the
// process boundary as it does in the server; nil for a line with none.
func (rs Reasons) Read(text, name string) error {
	if name == "" && text == "" {
		return nil
	}
	for _, r := range rs {
		if r.Name == name {
			return relayed{text, r.Is}
		}
	}
	return errors.New(text)
}

// relayed is an error read back from an event stream: the server's text,
// and the sentinel it wrapped.
type relayed struct {
	text string
	is   error
}

func (r relayed) Error() string { return r.text }
func (r relayed) Unwrap() error { return r.is }
