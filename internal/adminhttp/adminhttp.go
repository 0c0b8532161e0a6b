// Package adminhttp is the admin endpoint's HTTP side, which needs
// nothing of the echo servers: readiness, the handler that serves it with
// the metrics, and the counter of dropped records. echoadmin, the library,
// and internal/ops, the commands' glue, both build on it.
package adminhttp

import (
	"encoding/json"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// State is a server's readiness, as /readyz reports it. Its zero value is
// not ready.
type State struct {
	ready atomic.Bool
}

// SetReady says whether the server accepts: true once its sockets serve,
// false from the moment a shutdown or a drain begins.
func (s *State) SetReady(ready bool) { s.ready.Store(ready) }

// Ready reports what SetReady last said.
func (s *State) Ready() bool { return s.ready.Load() }

// NewHandler returns the admin endpoint:
//
//	GET /metrics  what g gathers, in Prometheus's exposition format
//	GET /healthz  200 "ok": the process is alive and answers
//	GET /readyz   200 "ready" while state is ready, 503 "not ready" otherwise
//	GET /info     info(), as JSON: who the server is and how it is set
//
// Every other path is 404; a method other than GET or HEAD, 405.
func NewHandler(g prometheus.Gatherer, state *State, info func() any) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		text(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if state.Ready() {
			text(w, http.StatusOK, "ready")
		} else {
			text(w, http.StatusServiceUnavailable, "not ready")
		}
	})
	mux.HandleFunc("GET /info", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(info())
	})
	return mux
}

// text answers with one line of plain text that no cache keeps: a probe
// must see the state as it is now.
func text(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write([]byte(body + "\n"))
}

// Namespace prefixes every metric of the echo servers.
const Namespace = "echo"

// NewDropped registers a counter, echo_WHAT_records_dropped_total, of
// records a program dropped rather than wait for a slow reader, read from
// count at each scrape: what, "log" or "event", names the records.
func NewDropped(reg prometheus.Registerer, what string, count func() uint64) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: what + "_records_dropped_total",
		Help: "Records (" + what + " lines) dropped because their reader did not keep up, so that no connection waited for it."},
		func() float64 { return float64(count()) }))
}
