package tcpecho

import (
	"bytes"
	"fmt"
)

// Framing says what the server takes as one message. Every framing echoes
// every byte, once and in order; they differ in when: which to choose is
// in the package documentation.
type Framing int

const (
	// FramingStream echoes each read at once, whatever it holds: a message
	// is what one read returned. It is RFC 862's echo, and the zero value.
	FramingStream Framing = iota
	// FramingLine takes one line, up to and including its '\n', as a
	// message, and echoes it once it is whole.
	FramingLine
	// FramingFixed takes at most a fixed number of bytes as a message,
	// whatever they are, as the article's 4-byte server does.
	FramingFixed
)

// Defaults for the zero values of Server and Dialer fields.
const (
	DefaultSize    = 4        // bytes in a fixed-framing message
	DefaultMaxLine = 64 << 10 // bytes in the longest line held whole
	DefaultAddr    = "127.0.0.1:8080"
)

// String returns the name used on command lines: "stream", "line" or
// "fixed".
func (f Framing) String() string {
	switch f {
	case FramingStream:
		return "stream"
	case FramingLine:
		return "line"
	case FramingFixed:
		return "fixed"
	}
	return fmt.Sprintf("Framing(%d)", int(f))
}

// MarshalText implements encoding.TextMarshaler.
func (f Framing) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText accepts "stream", "line" or "fixed", so a Framing can be
// a flag (flag.TextVar) or a configuration value.
func (f *Framing) UnmarshalText(text []byte) error {
	switch string(text) {
	case "stream":
		*f = FramingStream
	case "line":
		*f = FramingLine
	case "fixed":
		*f = FramingFixed
	default:
		return fmt.Errorf("framing must be stream, line or fixed, not %q", text)
	}
	return nil
}

// splitFunc returns how many bytes at the start of data make the next
// message, or 0 when data holds no complete message yet. atEOF says no more
// bytes will come, so whatever is left is a message of its own. The first
// from bytes of data are known to hold no message end, so that an
// unfinished message is searched once however it trickles in; scanned is
// how many bytes are known so after the call.
type splitFunc func(data []byte, atEOF bool, from int) (n, scanned int)

// streamSplit takes whatever has arrived: one read is one message.
func streamSplit(data []byte, _ bool, _ int) (int, int) { return len(data), 0 }

// fixedSplit takes whatever has arrived, up to size bytes: a fixed-buffer
// server never waits for a buffer to fill, or a short message would never
// come back.
func fixedSplit(size int) splitFunc {
	return func(data []byte, _ bool, _ int) (int, int) { return min(len(data), size), 0 }
}

// lineSplit takes a line with its '\n'; a line longer than maxLine is cut
// into pieces of maxLine bytes, and a last line without '\n' is taken as it
// is once the stream ends.
func lineSplit(maxLine int) splitFunc {
	return func(data []byte, atEOF bool, from int) (int, int) {
		window := data[:min(len(data), maxLine)]
		if from < len(window) {
			if i := bytes.IndexByte(window[from:], '\n'); i >= 0 {
				return from + i + 1, 0
			}
		}
		if len(window) == maxLine || atEOF {
			return len(window), 0
		}
		return 0, len(window)
	}
}

// consumeFunc returns how many bytes at the start of data are whole
// messages: what splitFunc would take, message after message. It lets a
// server that reports no messages take a batch in one step. from and
// scanned are as for splitFunc.
type consumeFunc func(data []byte, atEOF bool, from int) (n, scanned int)

// countFunc returns how many messages split would make of batch, bytes
// that consume took: what DataWritten reports, found without taking the
// messages one by one, so that counting costs a batch what consuming does.
type countFunc func(batch []byte) int

// streamCount: one read is one message.
func streamCount(batch []byte) int { return min(len(batch), 1) }

// fixedCount: pieces of size bytes, the last one shorter.
func fixedCount(size int) countFunc {
	return func(batch []byte) int { return (len(batch) + size - 1) / size }
}

// lineCount: a message per line, a line longer than maxLine being as many
// as its pieces, and the rest without '\n' the same.
func lineCount(maxLine int) countFunc {
	return func(batch []byte) int {
		if len(batch) <= maxLine {
			// No line can be cut: count the line ends, vectorised.
			n := bytes.Count(batch, newline)
			if len(batch) > 0 && batch[len(batch)-1] != '\n' {
				n++
			}
			return n
		}
		n := 0
		for len(batch) > 0 {
			line := len(batch)
			if i := bytes.IndexByte(batch, '\n'); i >= 0 {
				line = i + 1
			}
			n += (line + maxLine - 1) / maxLine
			batch = batch[line:]
		}
		return n
	}
}

var newline = []byte{'\n'}

// fixedConsume takes everything: every byte is part of some message, in
// the stream framing as in the fixed one.
func fixedConsume(data []byte, _ bool, _ int) (int, int) { return len(data), 0 }

// lineConsume takes every line up to the last '\n', then as many whole
// pieces of maxLine as the unfinished line holds, or all of it at the end.
// Only the bytes after from are searched: those before hold no '\n'.
func lineConsume(maxLine int) consumeFunc {
	return func(data []byte, atEOF bool, from int) (int, int) {
		if atEOF {
			return len(data), 0
		}
		n := 0
		switch fresh := data[from:]; {
		case len(fresh) > 0 && fresh[len(fresh)-1] == '\n':
			n = len(data) // whole lines, as most reads are
		case bytes.IndexByte(fresh, '\n') >= 0:
			// IndexByte first: it is vectorised and LastIndexByte is not,
			// and an unfinished line's new bytes mostly hold no '\n'.
			n = from + bytes.LastIndexByte(fresh, '\n') + 1
		}
		n += (len(data) - n) / maxLine * maxLine
		return n, len(data) - n
	}
}
