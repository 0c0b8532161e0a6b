// Command tcpserver is a TCP echo server: it sends every client back what
// the client sends it. By default each read is echoed at once (-framing
// stream, RFC 862's echo, for testing networks, balancers and clients);
// -framing line echoes whole lines (to watch a line protocol) and -framing
// fixed echoes in messages of at most -size bytes (to watch TCP deliver
// bytes in pieces, as in the article). With -tls-cert and -tls-key it
// speaks TLS; with -proxy-protocol it takes the client's address from the
// PROXY header a load balancer sends.
//
//	tcpserver [-listen ADDR] [-framing stream|line|fixed] [-size N] [-max-line N] [-v] ...
//
// It writes "listening on HOST:PORT" to stderr once it accepts connections,
// logs connections there (and every message with -v), and on SIGINT,
// SIGTERM or SIGHUP stops accepting, lets its clients' echoes finish and
// exits 0. Neither a log nor an event stream that stops being read slows
// a client: their lines are dropped and counted instead.
package main

import (
	"context"
	"io"
	"time"

	"github.com/echospec/echo/impl/echoadmin"
	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/internal/cli"
	"github.com/echospec/echo/internal/ops"
)

func main() { cli.Main(run) }

const synopsis = "tcpserver [-listen ADDR] [-framing stream|line|fixed] [-size N] [-max-line N] [-max-conns N] [-max-conns-per-ip N] [-max-held BYTES] [-idle-timeout D] [-write-timeout D] [-shutdown-timeout D] [-tls-cert FILE -tls-key FILE [-tls-client-ca FILE]] [-tls-handshake-timeout D] [-proxy-protocol off|optional|required] [-proxy-from CIDR,...] [-identity NAME] [-events FILE] [-events-buffer BYTES] [-admin ADDR] [-drain-delay D] [-v]"

// The limits' defaults: generous for an echo service, never unbounded.
const (
	defaultMaxConns        = 10000
	defaultMaxHeld         = 64 << 20
	defaultIdleTimeout     = 5 * time.Minute
	defaultWriteTimeout    = 10 * time.Second
	defaultShutdownTimeout = 5 * time.Second
)

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	stderr = cli.SyncWriter(stderr)
	fs := cli.NewFlagSet("tcpserver", synopsis, stderr)
	common := cli.AddServerFlags(fs, tcpecho.DefaultAddr, defaultShutdownTimeout,
		"busy connections get to finish before they are closed; idle ones close at once",
		"log every message, not only connections",
		"connections, reads, whole messages, echoes written")
	var framing tcpecho.Framing
	fs.TextVar(&framing, "framing", tcpecho.FramingStream, "`how` to echo: stream (each read at once, as RFC 862 asks: to test networks, balancers and clients), line (each line once whole: to see where messages begin and end) or fixed (in messages of at most -size bytes: to watch TCP deliver bytes in pieces)")
	size := cli.PositiveInt(fs, "size", tcpecho.DefaultSize, "largest message in `bytes`, with -framing fixed")
	maxLine := cli.PositiveInt(fs, "max-line", tcpecho.DefaultMaxLine, "longest line held whole, in `bytes`, with -framing line; a longer one is echoed on in pieces of this size")
	maxConns := cli.Count(fs, "max-conns", defaultMaxConns, "`N`: most connections open at once; one more is closed at once, counted and logged (0: no limit)")
	maxConnsPerIP := cli.Count(fs, "max-conns-per-ip", 0, "`N`: most connections open at once from one client address; one more is closed at once, counted and logged (0: no limit)")
	maxHeld := cli.Count(fs, "max-held", defaultMaxHeld, "`bytes` all clients together may make the server hold between reads (unfinished lines, echoes not yet taken); past it unfinished lines are echoed on as they stand (0: no limit)")
	idleTimeout := cli.Duration(fs, "idle-timeout", defaultIdleTimeout, "close a connection whose client sends nothing for this `duration` (0: never)")
	writeTimeout := cli.Duration(fs, "write-timeout", defaultWriteTimeout, "close a connection whose client reads none of its echo for this `duration`; until then the server reads nothing more from it (0: never)")
	tlsFlags := cli.AddServerTLSFlags(fs, tcpecho.DefaultHandshakeTimeout)
	var proxyMode tcpecho.ProxyMode
	fs.TextVar(&proxyMode, "proxy-protocol", tcpecho.ProxyOff, "`mode`: off; optional (use a PROXY header, v1 or v2, where one comes); or required (refuse a connection without one). Behind HAProxy's send-proxy, nginx's proxy_protocol or an AWS NLB, the header names the real client, which logs, events and -max-conns-per-ip then use")
	proxyFrom := cli.Prefixes(fs, "proxy-from", "`CIDR,...`: the only sources allowed to send a PROXY header (your balancers); a header from any other is refused (default: any)")
	identityFlag := cli.AddIdentityFlag(fs)
	if err := cli.Parse(fs, args, true, stdout); err != nil {
		return err
	}
	name, err := identityFlag.Name(fs)
	if err != nil {
		return err
	}
	tlsConfig, err := tlsFlags.Config(fs)
	if err != nil {
		return err
	}
	if len(*proxyFrom) > 0 && proxyMode == tcpecho.ProxyOff {
		return cli.Usagef(fs, "-proxy-from needs -proxy-protocol optional or required")
	}

	logger := identityFlag.Logger(cli.NewLogger(stderr, *common.Verbose))
	admin, err := ops.Start(fs, *common.Admin, stderr, logger)
	if err != nil {
		return err
	}
	defer admin.Close()
	activated, err := cli.ActivatedListeners()
	if err != nil {
		return err
	}
	eventStream, err := cli.OpenEvents(*common.Events, stdout, *common.EventsBuffer, logger)
	if err != nil {
		return err
	}
	defer eventStream.Close()
	var stream tcpecho.Observer
	if w := eventStream.Writer(); w != nil {
		stream = tcpecho.EventStream(w)
	}
	srv := &tcpecho.Server{
		Addr:             *common.Listen,
		Framing:          framing,
		Size:             *size,
		MaxLine:          *maxLine,
		MaxConns:         *maxConns,
		MaxConnsPerIP:    *maxConnsPerIP,
		MaxHeld:          int64(*maxHeld),
		IdleTimeout:      *idleTimeout,
		WriteTimeout:     *writeTimeout,
		TLSConfig:        tlsConfig,
		HandshakeTimeout: *tlsFlags.HandshakeTimeout,
		ProxyProtocol:    proxyMode,
		ProxyFrom:        *proxyFrom,
		Identity:         name,
		Logger:           logger,
	}
	var metrics tcpecho.Observer
	if admin.Registry != nil {
		metrics = echoadmin.NewTCPMetrics(admin.Registry, srv.Held)
		admin.CountDropped(stderr, eventStream)
	}
	srv.Observer = tcpecho.MultiObserver(tcpecho.LogObserver(logger, *common.Verbose), stream, metrics)
	serve, sockets := cli.Serving(activated, srv.Serve, srv.ListenAndServe, srv, tcpecho.ErrServerClosed)
	srv.Ready = admin.Ready(cli.Ready(stderr), sockets, len(activated) > 0)
	if err := cli.Serve(ctx, serve, srv, tcpecho.ErrServerClosed, common.Stop(admin.Stopping), logger); err != nil {
		return err
	}
	logger.Info("stopped", "log_lines_dropped", cli.Dropped(stderr), "events_dropped", eventStream.Dropped())
	return nil
}
