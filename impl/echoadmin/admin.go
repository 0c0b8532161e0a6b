package echoadmin

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/echospec/echo/internal/adminhttp"
)

// State is a server's readiness, as /readyz reports it. Its zero value is
// not ready. SetReady says whether the server accepts: true once its
// sockets serve, false from the moment a shutdown or a drain begins.
type State = adminhttp.State

// NewHandler returns the admin endpoint:
//
//	GET /metrics  what g gathers, in Prometheus's exposition format
//	GET /healthz  200 "ok": the process is alive and answers
//	GET /readyz   200 "ready" while state is ready, 503 "not ready" otherwise
//	GET /info     info(), as JSON: who the server is and how it is set
//
// Every other path is 404; a method other than GET or HEAD, 405.
func NewHandler(g prometheus.Gatherer, state *State, info func() any) http.Handler {
	return adminhttp.NewHandler(g, state, info)
}
