// Package ops is a server command's operational surface: its readiness
// and the admin endpoint (-admin) that shows it with the server's
// metrics.
package ops

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/echospec/echo/internal/adminhttp"
	"github.com/echospec/echo/internal/cli"
	"github.com/echospec/echo/internal/describe"
)

// The admin endpoint's bounds: a client of it, hostile or stuck, holds
// at most one of maxAdminConns connections and for at most these times;
// one that waits without a request gives its slot to a newcomer (slots).
const (
	maxAdminConns     = 64
	adminHeaderWait   = 5 * time.Second
	adminRequestWait  = 10 * time.Second
	adminResponseWait = 30 * time.Second
	adminIdle         = time.Minute
	adminMaxHeader    = 16 << 10
	adminStopWait     = time.Second
)

// Ops is a server's operational surface: its readiness and, with -admin,
// the admin endpoint that shows it with the server's metrics.
type Ops struct {
	// Registry is where the server's metrics go; nil without -admin, when
	// no metric is made at all.
	Registry *prometheus.Registry

	state  adminhttp.State
	http   *http.Server
	served chan error
	logger *slog.Logger

	mu        sync.Mutex
	listening []string
	info      Info
}

// Info is what the admin endpoint's /info shows.
type Info struct {
	Name      string            `json:"name"`
	Version   string            `json:"version"`
	Hostname  string            `json:"hostname"`
	Identity  string            `json:"identity,omitempty"` // -identity: the name identity probes learn
	PID       int               `json:"pid"`
	Listening []string          `json:"listening"`
	Admin     string            `json:"admin"`
	Activated bool              `json:"socket_activated"`
	Config    map[string]string `json:"config"`
}

// Start starts the admin endpoint on addr, unless it is "", for the
// command fs parsed, and writes "admin endpoint at http://HOST:PORT/" to
// stderr once it answers.
func Start(fs *flag.FlagSet, addr string, stderr io.Writer, logger *slog.Logger) (*Ops, error) {
	o := &Ops{logger: logger}
	if addr == "" {
		return o, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin endpoint: listen on %s: %w", addr, describe.Cause(err))
	}
	o.Registry = prometheus.NewRegistry()
	o.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	hostname, _ := os.Hostname()
	o.info = Info{Name: fs.Name(), Version: cli.Version(fs.Name()), Hostname: hostname, PID: os.Getpid(), Admin: l.Addr().String(), Config: map[string]string{}}
	if f := fs.Lookup("identity"); f != nil {
		o.info.Identity = f.Value.String()
	}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "version" {
			o.info.Config[f.Name] = f.Value.String()
		}
	})
	admitted := newSlots(l, maxAdminConns)
	o.http = &http.Server{
		ConnState:         admitted.ConnState,
		Handler:           adminhttp.NewHandler(o.Registry, &o.state, o.Info),
		ReadHeaderTimeout: adminHeaderWait,
		ReadTimeout:       adminRequestWait,
		WriteTimeout:      adminResponseWait,
		IdleTimeout:       adminIdle,
		MaxHeaderBytes:    adminMaxHeader,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	o.served = make(chan error, 1)
	go func() { o.served <- o.http.Serve(admitted) }()
	fmt.Fprintf(stderr, "admin endpoint at http://%s/\n", l.Addr())
	return o, nil
}

// Info returns what /info shows now.
func (o *Ops) Info() any {
	o.mu.Lock()
	defer o.mu.Unlock()
	info := o.info
	info.Listening = append([]string{}, o.listening...)
	return info
}

// Ready wraps a server's Ready hook: the server is ready once each of its
// sockets serves.
func (o *Ops) Ready(hook func(net.Addr), sockets int, activated bool) func(net.Addr) {
	return func(addr net.Addr) {
		o.mu.Lock()
		o.listening = append(o.listening, addr.String())
		o.info.Activated = activated
		all := len(o.listening) == sockets
		o.mu.Unlock()
		if all {
			o.state.SetReady(true)
		}
		hook(addr)
	}
}

// Stopping turns the server not ready: a stop has begun.
func (o *Ops) Stopping() { o.state.SetReady(false) }

// CountDropped adds the log lines stderr dropped, and the events events
// dropped, to the metrics.
func (o *Ops) CountDropped(stderr io.Writer, events *cli.Events) {
	if o.Registry == nil {
		return
	}
	adminhttp.NewDropped(o.Registry, "log", func() uint64 { return cli.Dropped(stderr) })
	adminhttp.NewDropped(o.Registry, "event", events.Dropped)
}

// Close stops the admin endpoint, which answered until the server had
// stopped, letting a request in progress finish for a moment.
func (o *Ops) Close() {
	if o.http == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), adminStopWait)
	defer cancel()
	if err := o.http.Shutdown(ctx); err != nil {
		o.http.Close()
	}
	if err := <-o.served; !errors.Is(err, http.ErrServerClosed) {
		o.logger.Warn("admin endpoint failed", "err", err.Error())
	}
}
