// Command udpserver is a UDP echo server: it sends every datagram's payload
// back to its sender, unless answering could start a reflection loop.
//
//	udpserver [-listen ADDR] [-guard=false] [-shutdown-timeout D] [-v]
//
// It writes "listening on HOST:PORT" to stderr once it reads datagrams,
// logs refused and failed datagrams there at most once a second each (and
// every datagram with -v), and exits 0 on SIGINT, SIGTERM or SIGHUP. Neither
// a log nor an event stream that stops being read delays an answer: their
// lines are dropped and counted instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/echospec/echo/impl/udpecho"
	"github.com/echospec/echo/internal/cli"
)

func main() { cli.Main(run) }

const synopsis = "udpserver [-listen ADDR] [-guard=false] [-shutdown-timeout D] [-events FILE] [-events-buffer BYTES] [-v]"

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	stderr = cli.SyncWriter(stderr)
	fs := flag.NewFlagSet("udpserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, synopsis)
	listen := cli.HostPort(fs, "listen", udpecho.DefaultAddr, "`address` to listen on, host:port; port 0 picks a free port")
	guard := fs.Bool("guard", true, "refuse to answer service ports (below 1024, and 2049) and broadcast or multicast sources, which could start a reflection loop; -guard=false answers everyone")
	shutdownTimeout := cli.Duration(fs, "shutdown-timeout", 5*time.Second, "on SIGINT, SIGTERM or SIGHUP, the `duration` the datagram being answered gets to finish")
	verbose := fs.Bool("v", false, "log every datagram")
	events := fs.String("events", "", "write every event (datagrams answered, refused, failed, with whole payloads) as a JSON line to `file`, - for stdout; for programs watching the server")
	eventsBuffer := cli.PositiveInt(fs, "events-buffer", cli.DefaultEventsBuffer, "`bytes` of events that may wait for a slow -events reader; past it events are dropped and counted")
	if err := cli.Parse(fs, args, true, stdout); err != nil {
		return err
	}

	logger := cli.NewLogger(stderr, *verbose)
	srv := &udpecho.Server{
		Addr:         *listen,
		DisableGuard: !*guard,
		Logger:       logger,
		Ready: func(addr net.Addr) {
			// A contract, not a log line: scripts wait for it and read the
			// port from it.
			fmt.Fprintf(stderr, "listening on %s\n", addr)
		},
	}
	if !*guard {
		logger.Warn("reflection guard off: answering every source, service ports included")
	}
	eventStream, err := cli.OpenEvents(*events, stdout, *eventsBuffer, logger)
	if err != nil {
		return err
	}
	defer eventStream.Close()
	var stream udpecho.Observer
	if w := eventStream.Writer(); w != nil {
		stream = udpecho.EventStream(w)
	}
	// Without -v or -events nobody wants a datagram: no work per datagram.
	srv.Observer = udpecho.MultiObserver(udpecho.LogObserver(logger, *verbose), stream)
	if err := cli.Serve(ctx, srv, udpecho.ErrServerClosed, *shutdownTimeout, logger); err != nil {
		return err
	}
	logger.Info("stopped", "refused_total", srv.Refused(), "log_lines_dropped", cli.Dropped(stderr), "events_dropped", eventStream.Dropped())
	return nil
}
