package echoadmin_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/echospec/echo/impl/echoadmin"
	"github.com/echospec/echo/impl/tcpecho"
)

// A TCP echo server whose metrics and readiness an admin endpoint shows.
func ExampleNewTCPMetrics() {
	reg := prometheus.NewRegistry()
	var state echoadmin.State
	srv := &tcpecho.Server{Framing: tcpecho.FramingLine, Logger: slog.New(slog.DiscardHandler)}
	metrics := echoadmin.NewTCPMetrics(reg, srv.Held)
	closed := make(chan struct{})
	srv.Observer = tcpecho.MultiObserver(metrics, tcpecho.ObserverFunc(func(e tcpecho.Event) {
		if e.Kind == tcpecho.ConnClosed {
			close(closed) // the connection's counts are all in
		}
	}))
	admin := httptest.NewServer(echoadmin.NewHandler(reg, &state, func() any { return "an example" }))
	defer admin.Close()

	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Close()
	state.SetReady(true)

	c, _ := (&tcpecho.Dialer{Framing: tcpecho.FramingLine}).Dial(context.Background(), l.Addr().String())
	for _, line := range []string{"one", "two", "three"} {
		c.Echo([]byte(line))
	}
	c.Close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
	}
	resp, _ := http.Get(admin.URL + "/readyz")
	resp.Body.Close()
	fmt.Println("/readyz:", resp.Status)
	families, _ := reg.Gather()
	for _, f := range families {
		if f.GetName() == "echo_tcp_sent_messages_total" {
			fmt.Println("lines echoed:", f.GetMetric()[0].GetCounter().GetValue())
		}
	}
	// Output:
	// /readyz: 200 OK
	// lines echoed: 3
}
