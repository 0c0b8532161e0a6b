package steps

import (
	"github.com/cucumber/godog"

	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pires/go-proxyproto"

	"github.com/echospec/echo/impl/tcpecho"
)

// serverReadsProxyHeaders is the step `^the server reads a PROXY header (from every connection|where one comes)(?:, only from (\S+))?$`.
func serverReadsProxyHeaders(ctx context.Context, which, from string) error {
	w := worldFrom(ctx)
	mode := tcpecho.ProxyRequired
	if which == "where one comes" {
		mode = tcpecho.ProxyOptional
	}
	var prefixes []netip.Prefix
	if from != "" {
		p, err := netip.ParsePrefix(from)
		if err != nil {
			return err
		}
		prefixes = []netip.Prefix{p}
	}
	return w.configure(func() { w.server.proxy, w.server.proxyFrom = mode, prefixes })
}

// clientComesThroughBalancerNamingIt is the step `^`+client+` comes through a balancer that names it (\S+) in a PROXY (v1|v2) header(, sent a byte at a time)?$`.
func clientComesThroughBalancerNamingIt(ctx context.Context, name, as, version, trickled string) error {
	w := worldFrom(ctx)
	src, err := netip.ParseAddrPort(as)
	if err != nil {
		return err
	}
	p, err := w.peer(clientName(name))
	if err != nil {
		return err
	}
	v := byte(1)
	if version == "v2" {
		v = 2
	}
	h := proxyproto.HeaderProxyFromAddrs(v, net.TCPAddrFromAddrPort(src), p.conn.RemoteAddr())
	b, err := h.Format()
	if err != nil {
		return fmt.Errorf("the balancer's header: %w", err)
	}
	pieces := [][]byte{b}
	if trickled != "" {
		pieces = pieces[:0]
		for i := range b {
			pieces = append(pieces, b[i:i+1])
		}
	}
	for _, piece := range pieces {
		if err := p.send(piece); err != nil {
			return err
		}
		if len(pieces) > 1 {
			pace(ctx, trickleEvery) // so that each byte is a read of its own
		}
	}
	// The client has come through once the server has taken its header
	// and served or refused it: each connection's header is read on its
	// own goroutine, so without this wait a later client could be taken
	// first.
	_, err = w.server.events.waitFor(ctx, fmt.Sprintf("the server to take %s's PROXY header", name), func(events []event) bool {
		for _, e := range events {
			// A header refused outright leaves the connection named by
			// its own address.
			named := e.remote == src.String() || e.remote == p.local()
			if (e.kind == tcpecho.ConnOpened || e.kind == tcpecho.ConnRejected) && named {
				return true
			}
		}
		return false
	})
	return err
}

// trickleEvery is the pause between the bytes of a header sent a byte at
// a time.
const trickleEvery = 5 * time.Millisecond

// clientSendsBrokenProxyHeader is the step `^`+client+` sends a PROXY header that is not one$`.
func clientSendsBrokenProxyHeader(ctx context.Context, name string) error {
	p, err := worldFrom(ctx).peer(clientName(name))
	if err != nil {
		return err
	}
	return p.send([]byte("PROXY TCP4 this is not an address\r\n"))
}

// serverSawClientAsThroughBalancer is the step `^the server saw `+client+` as (\S+), through the balancer$`.
func serverSawClientAsThroughBalancer(ctx context.Context, name, as string) error {
	w := worldFrom(ctx)
	balancer, err := w.clientAddr(name)
	if err != nil {
		return err
	}
	_, err = w.server.events.waitFor(ctx, fmt.Sprintf("%s's connection as %s through %s", name, as, balancer), func(events []event) bool {
		for _, e := range events {
			if e.kind == tcpecho.ConnOpened && e.remote == as && e.proxy == balancer {
				return true
			}
		}
		return false
	})
	return err
}

// serverSawClientByOwnAddress is the step `^the server saw `+client+` by its own address, with no balancer$`.
func serverSawClientByOwnAddress(ctx context.Context, name string) error {
	w := worldFrom(ctx)
	local, err := w.clientAddr(name)
	if err != nil {
		return err
	}
	_, err = w.server.events.waitFor(ctx, name+"'s connection by its own address", func(events []event) bool {
		for _, e := range events {
			if e.kind == tcpecho.ConnOpened && e.remote == local && e.proxy == "" {
				return true
			}
		}
		return false
	})
	return err
}

// echoClientSendsProxyHeaderFirst is the step `^the echo client sends a PROXY (v1|v2) header first$`.
func echoClientSendsProxyHeaderFirst(ctx context.Context, version string) error {
	w := worldFrom(ctx)
	w.clients.echo.dialer.ProxyHeader = 1
	if version == "v2" {
		w.clients.echo.dialer.ProxyHeader = 2
	}
	return nil
}

// registerProxySteps registers the steps of this file: the PROXY protocol: clients behind a balancer.
func registerProxySteps(sc *godog.ScenarioContext) {
	sc.Step(`^the server reads a PROXY header (from every connection|where one comes)(?:, only from (\S+))?$`, serverReadsProxyHeaders)
	sc.Step(`^`+client+` comes through a balancer that names it (\S+) in a PROXY (v1|v2) header(, sent a byte at a time)?$`, clientComesThroughBalancerNamingIt)
	sc.Step(`^`+client+` sends a PROXY header that is not one$`, clientSendsBrokenProxyHeader)
	sc.Step(`^the server saw `+client+` as (\S+), through the balancer$`, serverSawClientAsThroughBalancer)
	sc.Step(`^the server saw `+client+` by its own address, with no balancer$`, serverSawClientByOwnAddress)
	sc.Step(`^the echo client sends a PROXY (v1|v2) header first$`, echoClientSendsProxyHeaderFirst)
}
