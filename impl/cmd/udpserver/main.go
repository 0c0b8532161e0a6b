// Command udpserver is a UDP echo server: it sends every datagram's payload
// back to its sender, unless answering could start a reflection loop.
//
//	udpserver [-listen ADDR] [-guard=false] [-identity NAME] [-shutdown-timeout D] [-v]
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

	"github.com/echospec/echo/impl/echoadmin"
	"github.com/echospec/echo/impl/udpecho"
	"github.com/echospec/echo/internal/cli"
	"github.com/echospec/echo/internal/ops"
)

func main() { cli.Main(run) }

const synopsis = "udpserver [-listen ADDR] [-guard=false] [-identity NAME] [-shutdown-timeout D] [-events FILE] [-events-buffer BYTES] [-admin ADDR] [-drain-delay D] [-v]"

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	stderr = cli.SyncWriter(stderr)
	fs := cli.NewFlagSet("udpserver", synopsis, stderr)
	common := cli.AddServerFlags(fs, udpecho.DefaultAddr, 5*time.Second,
		"the datagram being answered gets to finish",
		"log every datagram",
		"datagrams received, answered, refused, failed, with whole payloads")
	guard := fs.Bool("guard", true, "refuse to answer what could start a reflection loop: service ports (below 1024, and 2049), the server's own port on any host, broadcast, multicast and unspecified sources, and a source that echoes the guard's probe; -guard=false answers everyone")
	identityFlag := cli.AddIdentityFlag(fs)
	if err := cli.Parse(fs, args, true, stdout); err != nil {
		return err
	}
	name, err := identityFlag.Name(fs)
	if err != nil {
		return err
	}

	logger := identityFlag.Logger(cli.NewLogger(stderr, *common.Verbose))
	admin, err := ops.Start(fs, *common.Admin, stderr, logger)
	if err != nil {
		return err
	}
	defer admin.Close()
	activated, err := cli.ActivatedPacketConns()
	if err != nil {
		return err
	}
	srv := &udpecho.Server{
		Addr:         *common.Listen,
		DisableGuard: !*guard,
		Identity:     name,
		Logger:       logger,
	}
	if !*guard {
		logger.Warn("reflection guard off: answering every source, service ports included")
	}
	eventStream, err := cli.OpenEvents(*common.Events, stdout, *common.EventsBuffer, logger)
	if err != nil {
		return err
	}
	defer eventStream.Close()
	var stream, metrics udpecho.Observer
	if w := eventStream.Writer(); w != nil {
		stream = udpecho.EventStream(w)
	}
	if admin.Registry != nil {
		metrics = echoadmin.NewUDPMetrics(admin.Registry)
		admin.CountDropped(stderr, eventStream)
	}
	// Without -v, -events or -admin nobody wants a datagram: no work per
	// datagram.
	srv.Observer = udpecho.MultiObserver(udpecho.LogObserver(logger, *common.Verbose), stream, metrics)
	serve, sockets := cli.Serving(activated, srv.Serve, srv.ListenAndServe, srv, udpecho.ErrServerClosed)
	srv.Ready = admin.Ready(cli.Ready(stderr), sockets, len(activated) > 0)
	if err := cli.Serve(ctx, serve, srv, udpecho.ErrServerClosed, common.Stop(admin.Stopping), logger); err != nil {
		return err
	}
	logger.Info("stopped", "refused_total", srv.Refused(), "log_lines_dropped", cli.Dropped(stderr), "events_dropped", eventStream.Dropped())
	return nil
}
