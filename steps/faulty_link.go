package steps

import (
	"bytes"
	"encoding/json"
	"fmt"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// faultyLink is a TCP proxy that injects faults between the scenario's
// clients and its server: Shopify's Toxiproxy, as a library. This kernel
// has no netem, and a proxy in the same process needs no privileges.
type faultyLink struct {
	proxy *toxiproxy.Proxy
}

// startFaultyLink starts a faultless link to upstream on a free loopback
// port; faults are added to it afterwards.
func startFaultyLink(upstream string) (*faultyLink, error) {
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "echo", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("start the faulty link: %w", err)
	}
	return &faultyLink{proxy: p}, nil
}

// addr is where clients connect to cross the link.
func (l *faultyLink) addr() string { return l.proxy.Listen }

// add puts a fault (a "toxic", in Toxiproxy's words) of kind on the link,
// on the streams named: "upstream" (client to server), "downstream" (the
// way back), or both.
func (l *faultyLink) add(kind string, attrs map[string]any, streams ...string) error {
	for _, stream := range streams {
		b, err := json.Marshal(map[string]any{"name": kind + "_" + stream, "type": kind, "stream": stream, "attributes": attrs})
		if err != nil {
			return err
		}
		if _, err := l.proxy.Toxics.AddToxicJson(bytes.NewReader(b)); err != nil {
			return fmt.Errorf("add %s to the link: %w", kind, err)
		}
	}
	return nil
}

func (l *faultyLink) stop() { l.proxy.Stop() }
