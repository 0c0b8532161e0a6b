// Command gnetecho is gnet v2's echo server, as make bench runs it beside
// ours: an event loop per CPU (gnet's multicore), each read echoed at
// once (-framing stream) or up to its last whole line (-framing line). It
// says "listening on HOST:PORT" on stderr once it accepts, and stops on
// SIGINT or SIGTERM.
//
// It is a benchmark's peer, not a server to rely on: when a client
// half-closes, gnet closes the connection and drops the echo it had not
// written yet, so make bench runs it for ping-pong and idle connections
// only.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/panjf2000/gnet/v2"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gnetecho:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage: gnetecho [-listen HOST:PORT] [-framing stream|line]")

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("gnetecho", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	listen := fs.String("listen", "127.0.0.1:0", "the address to listen on")
	framing := fs.String("framing", "stream", "stream: echo each read at once; line: echo whole lines")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 || (*framing != "stream" && *framing != "line") {
		return errUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h := &echo{line: *framing == "line", ctx: ctx, stderr: stderr}
	return gnet.Run(h, "tcp://"+*listen, gnet.WithMulticore(true), gnet.WithLogger(quiet{}))
}

// echo is the event handler: what gnet's own echo example does, and for
// lines, what a line echo does.
type echo struct {
	gnet.BuiltinEventEngine
	line   bool
	ctx    context.Context
	stderr io.Writer
}

// OnBoot says where the server listens (port 0 picks one, which only the
// listener knows), and stops the engine when the context ends.
func (e *echo) OnBoot(eng gnet.Engine) gnet.Action {
	fd, err := eng.Dup()
	if err != nil {
		fmt.Fprintln(e.stderr, "gnetecho: listener:", err)
		return gnet.Shutdown
	}
	f := os.NewFile(uintptr(fd), "listener")
	l, err := net.FileListener(f)
	f.Close()
	if err != nil {
		fmt.Fprintln(e.stderr, "gnetecho: listener:", err)
		return gnet.Shutdown
	}
	fmt.Fprintf(e.stderr, "listening on %s\n", l.Addr())
	l.Close()
	go func() {
		<-e.ctx.Done()
		eng.Stop(context.Background())
	}()
	return gnet.None
}

func (e *echo) OnTraffic(c gnet.Conn) gnet.Action {
	if !e.line {
		buf, _ := c.Next(-1)
		c.Write(buf)
		return gnet.None
	}
	buf, _ := c.Peek(-1)
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		c.Write(buf[:i+1])
		c.Discard(i + 1)
	}
	return gnet.None
}

// quiet is a logger that says nothing: the benchmark reads stderr for the
// "listening on" line alone.
type quiet struct{}

func (quiet) Debugf(string, ...any) {}
func (quiet) Infof(string, ...any)  {}
func (quiet) Warnf(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(string, ...any) {}
