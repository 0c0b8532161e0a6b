// Package echoadmin is the operational side of the echo servers: metrics
// in Prometheus's exposition format, made from the events a server already
// makes, and an admin HTTP handler with /metrics, /healthz, /readyz and
// /info, for operators, load balancers and Kubernetes' probes.
//
// The metrics are Observers (TCPMetrics, UDPMetrics): a server given none
// does no work for them, and one given them pays an atomic add or two per
// message. Readiness is a State the program sets: not ready until its
// sockets accept, ready while they do, and not ready again from the moment
// a shutdown or a drain begins, so that a balancer stops sending first.
package echoadmin
