// Command udpclient sends messages to a UDP echo server, one datagram
// each, and checks that each comes back unchanged.
//
//	udpclient [-addr ADDR] [-timeout D] [-retries N] [-local ADDR] [MESSAGE...]
//
// It sends each MESSAGE in turn, or else each line of stdin, and prints each
// echo on stdout, one per line. A message whose echo does not come within
// -timeout is sent again, up to -retries times. It exits 0 when every
// message came back, 1 when one did not, and 2 on bad usage.
package main

import (
	"context"
	"io"

	"github.com/echospec/echo/impl/udpecho"
	"github.com/echospec/echo/internal/cli"
)

func main() { cli.Main(run) }

const synopsis = "udpclient [-addr ADDR] [-timeout D] [-retries N] [-local ADDR] [-max-line BYTES] [MESSAGE...]"

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("udpclient", synopsis, stderr)
	addr := cli.HostPort(fs, "addr", udpecho.DefaultAddr, "echo server `address`, host:port")
	timeout := fs.Duration("timeout", udpecho.DefaultTimeout, "how long to wait for each echo before sending again (a `duration` such as 500ms)")
	retries := fs.Int("retries", 3, "how many `times` to send a message again when its echo does not come")
	local := fs.String("local", "", "local `address` to send from, host:port (default: an ephemeral port)")
	// 65507 bytes: the most one IPv4 datagram carries.
	maxLine := cli.PositiveInt(fs, "max-line", 65507, "longest line read from stdin, in `bytes`, its newline not counted")
	if err := cli.Parse(fs, args, false, stdout); err != nil {
		return err
	}
	if *timeout <= 0 {
		return cli.Usagef(fs, "invalid value %v for flag -timeout: must be positive", *timeout)
	}
	if *retries < 0 {
		return cli.Usagef(fs, "invalid value %d for flag -retries: negative", *retries)
	}

	d := udpecho.Dialer{LocalAddr: *local, Timeout: *timeout, Retries: *retries}
	c, err := d.Dial(ctx, *addr)
	if err != nil {
		return err
	}
	defer c.Close()
	// An interrupt while waiting for an echo ends the wait at once.
	stopAfter := context.AfterFunc(ctx, func() { c.Close() })
	defer stopAfter()

	return cli.PrintEchoes(ctx, fs.Args(), stdin, stdout, *maxLine, c.Echo)
}
