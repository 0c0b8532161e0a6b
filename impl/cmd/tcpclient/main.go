// Command tcpclient sends messages to a TCP echo server and checks that
// each comes back unchanged.
//
//	tcpclient [-addr ADDR] [-framing line|stream|fixed] [-size N] [-timeout D] [MESSAGE...]
//
// It sends each MESSAGE in turn, or else each line of stdin, over one
// connection, and prints each echo on stdout, one per line. It exits 0 when
// every echo matched what was sent, 1 otherwise, and 2 on bad usage.
package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/internal/cli"
)

func main() { cli.Main(run) }

const synopsis = "tcpclient [-addr ADDR] [-framing line|stream|fixed] [-size N] [-timeout D] [-max-line BYTES] [-tls [-tls-ca FILE] [-tls-insecure] [-tls-server-name NAME] [-tls-cert FILE -tls-key FILE]] [-proxy-header v1|v2] [-rtt] [MESSAGE...]"

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("tcpclient", synopsis, stderr)
	addr := cli.HostPort(fs, "addr", tcpecho.DefaultAddr, "echo server `address`, host:port")
	var framing tcpecho.Framing
	fs.TextVar(&framing, "framing", tcpecho.FramingLine, "`how` to send: line (each message as one line, read back up to the newline; works with every server), stream (each message as it is, read back as many bytes) or fixed (in pieces of at most -size bytes, each read back before the next)")
	size := cli.PositiveInt(fs, "size", tcpecho.DefaultSize, "largest piece sent at once, in `bytes`, with -framing fixed")
	timeout := fs.Duration("timeout", tcpecho.DefaultTimeout, "how long to wait to connect, and for each echo (a `duration` such as 500ms)")
	maxLine := cli.PositiveInt(fs, "max-line", cli.DefaultMaxStdinLine, "longest line read from stdin, in `bytes`, its newline not counted")
	rtt := fs.Bool("rtt", false, "after each echo, write how long its round trip took to stderr, as \"round trip 12.3ms\": to see what a network path adds")
	connFlags := cli.AddClientConnFlags(fs)
	if err := cli.Parse(fs, args, false, stdout); err != nil {
		return err
	}
	tlsConfig, proxyHeader, err := connFlags.Config(fs)
	if err != nil {
		return err
	}
	if *timeout <= 0 {
		return cli.Usagef(fs, "invalid value %v for flag -timeout: must be positive", *timeout)
	}

	d := tcpecho.Dialer{Framing: framing, Size: *size, Timeout: *timeout, TLSConfig: tlsConfig, ProxyHeader: proxyHeader}
	c, err := d.Dial(ctx, *addr)
	if err != nil {
		return err
	}
	// An interrupt while waiting for an echo ends the wait at once.
	stopAfter := context.AfterFunc(ctx, func() { c.Abort() })
	defer stopAfter()

	echo := c.Echo
	if *rtt {
		echo = func(msg []byte) ([]byte, error) {
			start := time.Now()
			got, err := c.Echo(msg)
			if err == nil {
				fmt.Fprintf(stderr, "round trip %v\n", time.Since(start).Round(100*time.Microsecond))
			}
			return got, err
		}
	}
	err = cli.PrintEchoes(ctx, fs.Args(), stdin, stdout, *maxLine, echo)
	if err != nil {
		c.Abort()
		return err
	}
	return c.Close()
}
