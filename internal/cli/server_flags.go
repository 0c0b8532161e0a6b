package cli

import (
	"flag"
	"fmt"
	"io"
	"net"
	"time"
)

// ServerFlags are the flags both servers take, with the same names,
// defaults and meaning: where to listen, how long a shutdown waits, -v,
// and the event stream.
type ServerFlags struct {
	Listen          *string
	ShutdownTimeout *time.Duration
	Verbose         *bool
	Events          *string
	EventsBuffer    *int
	// Admin is the admin endpoint's address, "" for none; DrainDelay how
	// long a stopping server stays open, not ready, before it shuts down.
	Admin      *string
	DrainDelay *time.Duration
}

// AddServerFlags defines ServerFlags on fs. addr is the default address;
// grace says what the shutdown timeout gives time to; verbose what -v logs
// and events what the event stream holds.
func AddServerFlags(fs *flag.FlagSet, addr string, shutdown time.Duration, grace, verbose, events string) ServerFlags {
	return ServerFlags{
		Listen:          HostPort(fs, "listen", addr, "`address` to listen on, host:port; port 0 picks a free port"),
		ShutdownTimeout: Duration(fs, "shutdown-timeout", shutdown, "on SIGINT, SIGTERM or SIGHUP, the `duration` "+grace),
		Verbose:         fs.Bool("v", false, verbose),
		Events:          fs.String("events", "", "write every event ("+events+") as a JSON line to `file`, - for stdout; for programs watching the server"),
		EventsBuffer:    PositiveInt(fs, "events-buffer", DefaultEventsBuffer, "`bytes` of events that may wait for a slow -events reader; past it events are dropped and counted"),
		Admin:           HostPort(fs, "admin", "", "serve the admin endpoint on `address`, host:port: GET /metrics (Prometheus), /healthz, /readyz, /info (off by default)"),
		DrainDelay:      Duration(fs, "drain-delay", 0, "on SIGINT, SIGTERM or SIGHUP, first answer /readyz with 503 and go on serving for this `duration`, so that a load balancer stops sending before the listeners close"),
	}
}

// Ready returns a server's Ready hook: it writes "listening on HOST:PORT"
// to stderr. A contract, not a log line: scripts wait for it and read the
// port from it.
func Ready(stderr io.Writer) func(net.Addr) {
	return func(addr net.Addr) { fmt.Fprintf(stderr, "listening on %s\n", addr) }
}

// Stop is how the server stops, as the flags say, with stopping called
// at once.
func (f ServerFlags) Stop(stopping func()) Stop {
	return Stop{Stopping: stopping, Drain: *f.DrainDelay, Grace: *f.ShutdownTimeout}
}
