package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxStdinLine is the default bound on one message read from
// stdin, its newline not counted: the clients' -max-line.
const DefaultMaxStdinLine = 1 << 20

// EachMessage calls send with each message in turn: each of args, or if
// there are none, each line of stdin without its '\n', of at most maxLine
// bytes. It stops at the first error send returns, or when ctx ends, even
// while stdin has no line ready (the read goes on in a goroutine that ends
// with the process).
func EachMessage(ctx context.Context, args []string, stdin io.Reader, maxLine int, send func(msg []byte) error) error {
	if len(args) > 0 {
		for _, a := range args {
			if err := send([]byte(a)); err != nil {
				return err
			}
		}
		return nil
	}

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	lines := make(chan []byte)
	readErr := make(chan error, 1)
	go func() { readErr <- readLines(ctx, stdin, maxLine, lines) }()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return <-readErr
			}
			if err := send(line); err != nil {
				return err
			}
		case <-ctx.Done():
			return Interrupted(ctx)
		}
	}
}

// readLines sends the lines of r on lines, which it closes at the end.
func readLines(ctx context.Context, r io.Reader, maxLine int, lines chan<- []byte) error {
	defer close(lines)
	sc := bufio.NewScanner(r)
	// Room for the longest line and its '\n': the scanner's bound counts
	// the newline, -max-line does not.
	// (The scanner's bound is the larger of it and the first buffer's.)
	sc.Buffer(make([]byte, 0, min(4096, maxLine+1)), maxLine+1)
	sc.Split(scanLF)
	for sc.Scan() {
		select {
		case lines <- bytes.Clone(sc.Bytes()):
		case <-ctx.Done():
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("a line of stdin is longer than -max-line, %d bytes", maxLine)
		}
		return fmt.Errorf("read stdin: %w", err)
	}
	return nil
}

// scanLF splits at '\n' only, unlike bufio.ScanLines, so that a '\r'
// before it stays part of the message and comes back too.
func scanLF(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// PrintEchoes runs the body every echo client shares: for each message
// (see EachMessage) it calls echo and prints what came back on stdout, one
// per line, without the newline a line echo ends with. It stops at the
// first error, which it returns.
func PrintEchoes(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, maxLine int, echo func(msg []byte) ([]byte, error)) error {
	out := bufio.NewWriter(stdout)
	return EachMessage(ctx, args, stdin, maxLine, func(msg []byte) error {
		got, err := echo(msg)
		if ctx.Err() != nil {
			return Interrupted(ctx)
		}
		if err != nil {
			return err
		}
		out.Write(bytes.TrimSuffix(got, []byte{'\n'}))
		out.WriteByte('\n')
		// Each echo shows as it comes, for a person typing at the client.
		if err := out.Flush(); err != nil {
			return fmt.Errorf("write stdout: %w", err)
		}
		return nil
	})
}
