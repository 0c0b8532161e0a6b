// Command tcpclient sends messages to a TCP echo server and checks that
// each comes back unchanged.
//
//	tcpclient [-addr ADDR] [-framing fixed|line] [-size N] [-timeout D] [MESSAGE...]
//
// It sends each MESSAGE in turn, or else each line of stdin, over one
// connection, and prints each echo on stdout, one per line. It exits 0 when
// every echo matched what was sent, 1 otherwise, and 2 on bad usage.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/echospec/echo/impl/internal/cli"
	"github.com/echospec/echo/impl/tcpecho"
)

func main() { cli.Main(run) }

const synopsis = "tcpclient [-addr ADDR] [-framing fixed|line] [-size N] [-timeout D] [MESSAGE...]"

// maxStdinLine bounds one message read from stdin.
const maxStdinLine = 1 << 20

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tcpclient", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, synopsis)
	addr := cli.HostPort(fs, "addr", tcpecho.DefaultAddr, "echo server `address`, host:port")
	var framing tcpecho.Framing
	fs.TextVar(&framing, "framing", tcpecho.FramingLine, "`fixed`: send each message in pieces of at most -size bytes and read back as many; line: send it as one line and read back up to the newline")
	size := cli.PositiveInt(fs, "size", tcpecho.DefaultSize, "largest piece sent at once, in `bytes`, with -framing fixed")
	timeout := fs.Duration("timeout", tcpecho.DefaultTimeout, "how `long` to wait to connect, and for each echo")
	if err := cli.Parse(fs, args, false); err != nil {
		return err
	}
	if *timeout <= 0 {
		return cli.Usagef(fs, "invalid value %v for flag -timeout: must be positive", *timeout)
	}

	d := tcpecho.Dialer{Framing: framing, Size: *size, Timeout: *timeout}
	c, err := d.Dial(ctx, *addr)
	if err != nil {
		return err
	}
	// An interrupt while waiting for an echo ends the wait at once.
	stopAfter := context.AfterFunc(ctx, func() { c.Abort() })
	defer stopAfter()

	// feed stops when run returns, even halfway through stdin.
	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	messages := make(chan []byte)
	readErr := make(chan error, 1)
	go func() { readErr <- feed(feedCtx, fs.Args(), stdin, messages) }()

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	for msg := range messages {
		echo, err := c.Echo(msg)
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %w", ctx.Err())
		}
		if err != nil {
			c.Abort()
			return err
		}
		out.Write(bytes.TrimSuffix(echo, []byte{'\n'}))
		out.WriteByte('\n')
		if err := out.Flush(); err != nil {
			c.Abort()
			return fmt.Errorf("write stdout: %w", err)
		}
	}
	if err := <-readErr; err != nil {
		c.Abort()
		return err
	}
	return c.Close()
}

// feed sends the messages, from args or else from the lines of stdin, and
// closes messages when there are no more or ctx ends.
func feed(ctx context.Context, args []string, stdin io.Reader, messages chan<- []byte) error {
	defer close(messages)
	send := func(msg []byte) bool {
		select {
		case messages <- msg:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if len(args) > 0 {
		for _, a := range args {
			if !send([]byte(a)) {
				return nil
			}
		}
		return nil
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 4096), maxStdinLine)
	sc.Split(scanLF)
	for line := 1; sc.Scan(); line++ {
		if !send(bytes.Clone(sc.Bytes())) {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("a line of stdin is longer than %d bytes", maxStdinLine)
		}
		return fmt.Errorf("read stdin: %w", err)
	}
	return nil
}

// scanLF splits stdin at '\n' only, unlike bufio.ScanLines, so that a '\r'
// before it is part of the message and comes back too.
func scanLF(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
