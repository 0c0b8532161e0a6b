// Command articleecho serves one of the article's broken echo servers, for
// checking that conformance runs fail against it:
//
//	articleecho -bug stale-buffer|drop-newline|pad-datagram [-listen ADDR]
//
// It writes "listening on HOST:PORT" to stderr when ready and stops on
// SIGINT or SIGTERM. It is a test fixture, never something to deploy.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/echospec/echo/steps/articlebugs"
)

func main() {
	bug := flag.String("bug", "", "which bug to serve: stale-buffer, drop-newline or pad-datagram")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	if err := run(articlebugs.Bug(*bug), *listen); err != nil {
		fmt.Fprintln(os.Stderr, "articleecho:", err)
		os.Exit(1)
	}
}

func run(bug articlebugs.Bug, listen string) error {
	var (
		l    net.Listener
		pc   net.PacketConn
		addr net.Addr
		err  error
	)
	if bug.UDP() {
		pc, err = net.ListenPacket("udp", listen)
		if err == nil {
			addr = pc.LocalAddr()
			defer pc.Close()
		}
	} else {
		l, err = net.Listen("tcp", listen)
		if err == nil {
			addr = l.Addr()
			defer l.Close()
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "listening on %s\n", addr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- articlebugs.Serve(bug, l, pc) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		return nil
	}
}
