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
	"io"
	"time"

	"github.com/echospec/echo/impl/udpecho"
	"github.com/echospec/echo/internal/cli"
)

func main() { cli.Main(run) }

const synopsis = "udpserver [-listen ADDR] [-guard=false] [-shutdown-timeout D] [-events FILE] [-events-buffer BYTES] [-v]"

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	stderr = cli.SyncWriter(stderr)
	fs := cli.NewFlagSet("udpserver", synopsis, stderr)
	common := cli.AddServerFlags(fs, udpecho.DefaultAddr, 5*time.Second,
		"the datagram being answered gets to finish",
		"log every datagram",
		"datagrams answered, refused, failed, with whole payloads")
	guard := fs.Bool("guard", true, "refuse to answer service ports (below 1024, and 2049) and broadcast or multicast sources, which could start a reflection loop; -guard=false answers everyone")
	if err := cli.Parse(fs, args, true, stdout); err != nil {
		return err
	}

	logger := cli.NewLogger(stderr, *common.Verbose)
	srv := &udpecho.Server{
		Addr:         *common.Listen,
		DisableGuard: !*guard,
		Logger:       logger,
		Ready:        cli.Ready(stderr),
	}
	if !*guard {
		logger.Warn("reflection guard off: answering every source, service ports included")
	}
	eventStream, err := cli.OpenEvents(*common.Events, stdout, *common.EventsBuffer, logger)
	if err != nil {
		return err
	}
	defer eventStream.Close()
	var stream udpecho.Observer
	if w := eventStream.Writer(); w != nil {
		stream = udpecho.EventStream(w)
	}
	// Without -v or -events nobody wants a datagram: no work per datagram.
	srv.Observer = udpecho.MultiObserver(udpecho.LogObserver(logger, *common.Verbose), stream)
	if err := cli.Serve(ctx, srv, udpecho.ErrServerClosed, *common.ShutdownTimeout, logger); err != nil {
		return err
	}
	logger.Info("stopped", "refused_total", srv.Refused(), "log_lines_dropped", cli.Dropped(stderr), "events_dropped", eventStream.Dropped())
	return nil
}
