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
	}
}

// Ready returns a server's Ready hook: it writes "listening on HOST:PORT"
// to stderr. A contract, not a log line: scripts wait for it and read the
// port from it.
func Ready(stderr io.Writer) func(net.Addr) {
	return func(addr net.Addr) { fmt.Fprintf(stderr, "listening on %s\n", addr) }
}
